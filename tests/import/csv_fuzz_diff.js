// csv_fuzz_diff - differential test of the CSV reader against papaparse.
// SPDX-License-Identifier: MIT
//
// Usage: node csv_fuzz_diff.js CSV_DUMP PAPAPARSE_DIR
// Environment: CS_TEST_SEED (replay a run), CS_CSV_DIFF_FILES (files, 300),
// CS_CSV_DIFF_FILE (only that file of the run), CS_CSV_DIFF_SECONDS (time
// budget, 200).
//
// Writes random messy CSV files (seeded PRNG; the seed is printed) and reads
// each with csv_dump (cs_csv) and with papaparse (header: true, the
// delimiter and line end given, skipEmptyLines: true); every row must agree
// value for value, and every row papaparse flags as having the wrong number
// of fields must be a bad row for us. The files mix: quoted and unquoted
// fields, delimiters (, ; TAB |) and quotes inside quoted fields, "" escapes,
// LF / CRLF / lone CR inside quoted fields, quotes and lone CRs inside
// unquoted fields, spaces after a closing quote, blank lines, rows with too
// few or too many fields, a missing last line end, LF / CRLF / CR row ends,
// UTF-8 with and without BOM, Windows-1252, ISO-8859-1 and UTF-16LE, with
// the encoding and delimiter given or detected.
//
// Only cases whose meaning is clear are generated: no unbalanced quotes and
// no text after a closing quote (papaparse flags those and then reads on
// differently), no LF outside quotes in a CRLF or CR file and no row end
// mixed in one file (papaparse splits on one line end only), no lone CR at
// the end of an unquoted field (a CR before the LF would be a CRLF for us),
// no empty one-column rows (papaparse's skipEmptyLines drops a row of one
// empty field, "" included), no bytes Windows-1252 leaves undefined.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const childProcess = require('child_process');
const assert = require('assert');

const [dump, papaDir] = process.argv.slice(2);
const Papa = require(papaDir);

const seed = process.env.CS_TEST_SEED !== undefined
    ? Number(process.env.CS_TEST_SEED) >>> 0
    : (Date.now() ^ (process.pid << 16)) >>> 0;
const fileCount = Number(process.env.CS_CSV_DIFF_FILES || 300);
const onlyFile = process.env.CS_CSV_DIFF_FILE !== undefined
    ? Number(process.env.CS_CSV_DIFF_FILE) : -1;
const budgetMs = Number(process.env.CS_CSV_DIFF_SECONDS || 200) * 1000;

// ---------------- PRNG (mulberry32) ----------------

function makeRng(s) {
    let a = s >>> 0;
    const next = () => {
        a = (a + 0x6D2B79F5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return {
        next,
        int: (n) => Math.floor(next() * n),
        chance: (p) => next() < p,
        pick: (items) => items[Math.floor(next() * items.length)],
    };
}

// ---------------- single-byte encodings ----------------

// Windows-1252 0x80..0x9F (undefined: 0x81 0x8D 0x8F 0x90 0x9D). Node 20's
// TextDecoder('windows-1252') decodes these bytes as ISO-8859-1 (U+0080..),
// so the table is spelled out here.
const CP1252_HIGH = [
    0x20AC, -1, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, -1, 0x017D, -1,
    -1, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, -1, 0x017E, 0x0178,
];

function decode1252(bytes) {
    let out = '';
    for (const b of bytes) {
        if (b >= 0x80 && b <= 0x9F) {
            assert(CP1252_HIGH[b - 0x80] >= 0, 'undefined cp1252 byte');
            out += String.fromCharCode(CP1252_HIGH[b - 0x80]);
        } else {
            out += String.fromCharCode(b);
        }
    }
    return out;
}

function encode1252(text) {
    const bytes = [];
    for (const ch of text) {
        const cp = ch.codePointAt(0);
        if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
            bytes.push(cp);
            continue;
        }
        const k = CP1252_HIGH.indexOf(cp);
        assert(k >= 0, `not in cp1252: U+${cp.toString(16)}`);
        bytes.push(0x80 + k);
    }
    return Buffer.from(bytes);
}

const ENCODINGS = {
    'utf-8': {
        chars: 'éüßñΩЖ中文€“”ʤ😀𝄞\u00a0',
        encode: (t) => Buffer.from(t, 'utf8'),
        decode: (b) => new TextDecoder('utf-8', { fatal: true }).decode(b),
        bom: null,
    },
    'utf-8-bom': {
        chars: 'éüßñΩЖ中文€“”ʤ😀',
        encode: (t) => Buffer.from(t, 'utf8'),
        decode: (b) => new TextDecoder('utf-8', { fatal: true }).decode(b),
        bom: Buffer.from([0xEF, 0xBB, 0xBF]),
    },
    'windows-1252': {
        chars: 'éüßñ€“”Œš™…—¿©ÿ',
        encode: encode1252,
        decode: decode1252,
        bom: null,
    },
    'iso-8859-1': {
        chars: 'éüßñ©¿ÿ\u0080\u0093\u0094\u00a0',
        encode: (t) => Buffer.from(t, 'latin1'),
        decode: (b) => b.toString('latin1'),
        bom: null,
    },
    'utf-16le-bom': {
        chars: 'éüßñΩЖ中文€“”😀𝄞',
        encode: (t) => Buffer.from(t, 'utf16le'),
        decode: (b) => new TextDecoder('utf-16le', { fatal: true }).decode(b),
        bom: Buffer.from([0xFF, 0xFE]),
    },
    'utf-16le': {
        chars: 'éüßñΩЖ中文€',
        encode: (t) => Buffer.from(t, 'utf16le'),
        decode: (b) => new TextDecoder('utf-16le', { fatal: true }).decode(b),
        bom: null,
    },
};
const ENCODING_WEIGHTS = [
    ['utf-8', 40], ['utf-8-bom', 15], ['windows-1252', 20],
    ['iso-8859-1', 10], ['utf-16le-bom', 10], ['utf-16le', 5],
];

function pickWeighted(rng, weights) {
    let total = 0;
    for (const [, w] of weights) total += w;
    let x = rng.int(total);
    for (const [item, w] of weights) {
        if (x < w) return item;
        x -= w;
    }
    return weights[0][0];
}

// ---------------- generator ----------------

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .-_@/()\'!?#&+=%*';
const DELIMITERS = [',', ';', '\t', '|'];

// The delimiter cs_csv picks from a header line (see s_sniff in cs_csv.c):
// the most frequent candidate outside quotes; a quote opens only at the
// start of a field.
function sniff(text) {
    const counts = { ',': 0, ';': 0, '\t': 0, '|': 0 };
    let inQuote = false, fieldStart = true;
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (inQuote) {
            if (ch === '"') {
                if (text[i + 1] === '"') i++;
                else inQuote = false;
            }
            continue;
        }
        if (ch === '"' && fieldStart) {
            inQuote = true;
            fieldStart = false;
            continue;
        }
        if (ch === '\n' || ch === '\r') break;
        fieldStart = ch in counts;
        if (fieldStart) counts[ch]++;
    }
    let best = ',', bestCount = 0;
    for (const d of DELIMITERS) {
        if (counts[d] > bestCount) {
            best = d;
            bestCount = counts[d];
        }
    }
    return best;
}

function makeFile(index) {
    const rng = makeRng((seed ^ Math.imul(index + 1, 0x9E3779B1)) >>> 0);
    const encName = pickWeighted(rng, ENCODING_WEIGHTS);
    const enc = ENCODINGS[encName];
    const delim = rng.pick(DELIMITERS);
    const rowEnd = rng.pick(['\n', '\n', '\r\n', '\r\n', '\r']);
    const columns = 1 + rng.int(rng.chance(0.2) ? 12 : 5);
    const big = index % 100 === 7;
    const rows = big ? 15000 + rng.int(10000)
                     : (rng.chance(0.1) ? 0 : rng.int(rng.chance(0.2) ? 300 : 30));

    const plainChar = (inHeader) => {
        const r = rng.next();
        if (r < 0.70) return rng.pick(ASCII);
        if (r < 0.85) return rng.pick([...enc.chars]);
        if (r < 0.93) {
            // another candidate delimiter is plain text here
            const other = DELIMITERS.filter((d) => d !== delim);
            return rng.pick(other);
        }
        if (inHeader) return rng.pick(ASCII);
        return '"'; // a quote inside an unquoted field is text
    };
    // text of an unquoted field: no delimiter, quote first, CR or LF
    // (a lone CR strictly inside, in LF files only)
    const plainField = (inHeader, nonEmpty) => {
        let len = rng.int(rng.chance(0.1) ? 40 : 8);
        if (nonEmpty && len === 0) len = 1;
        let s = '';
        for (let i = 0; i < len; i++) s += plainChar(inHeader);
        if (s.startsWith('"')) s = 'q' + s;
        const chars = [...s]; // code points: never split a surrogate pair
        if (!inHeader && rowEnd === '\n' && chars.length >= 2 &&
            rng.chance(0.05)) {
            chars.splice(1 + rng.int(chars.length - 1), 0, '\r');
            s = chars.join('');
        }
        if (s.startsWith(' ') && s.length > 1 && rng.chance(0.2)) {
            s = ' "' + s.slice(1); // a quote after a space is text
        }
        return s;
    };
    const quotedText = (inHeader, nonEmpty) => {
        let len = rng.int(rng.chance(0.1) ? 60 : 10);
        if (nonEmpty && len === 0) len = 1;
        let s = '';
        for (let i = 0; i < len; i++) {
            const r = rng.next();
            if (r < 0.55) s += rng.pick(ASCII);
            else if (r < 0.70) s += rng.pick([...enc.chars]);
            else if (r < 0.80) s += rng.pick(DELIMITERS);
            else if (r < 0.88) s += '"';
            else if (inHeader) s += 'h';
            else s += rng.pick(['\n', '\r\n', '\r']);
        }
        return s;
    };
    // a field as written, and its value
    const field = (inHeader, nonEmpty, last) => {
        if (rng.chance(inHeader ? 0.3 : 0.4)) {
            const value = quotedText(inHeader, nonEmpty);
            let text = '"' + value.replace(/"/g, '""') + '"';
            if (!last && rng.chance(0.08)) {
                text += rng.pick(delim === '\t' ? [' ', '  '] : [' ', '\t', ' \t']);
            }
            return { text, value };
        }
        const value = plainField(inHeader, nonEmpty);
        return { text: value, value };
    };

    // header: unique, non-empty names
    const names = [];
    const headerTexts = [];
    while (names.length < columns) {
        const f = field(true, true, false);
        const name = f.value + (rng.chance(0.5) ? String(names.length) : '');
        if (name.length === 0 || names.includes(name) ||
            name === '__proto__' || name === '__parsed_extra') {
            continue;
        }
        // write the name the way the field was written
        const text = f.text.startsWith('"') && f.value !== f.text
            ? '"' + name.replace(/"/g, '""') + '"'
            : name;
        if (!text.startsWith('"') && (name.includes(delim) ||
            name.startsWith('"'))) {
            continue;
        }
        names.push(name);
        headerTexts.push(text);
    }
    let text = headerTexts.join(delim) + rowEnd;
    let badRows = 0;
    for (let r = 0; r < rows; r++) {
        if (rng.chance(0.03)) text += rowEnd; // a blank line
        let count = columns;
        if (rng.chance(0.04)) {
            count = rng.chance(0.5) && columns > 1 ? rng.int(columns - 1) + 1
                                                   : columns + 1 + rng.int(3);
            badRows++;
        }
        const parts = [];
        for (let c = 0; c < count; c++) {
            // a row of one field must not be empty (it would be a blank
            // line, or a row papaparse skips)
            parts.push(field(false, count === 1, r === rows - 1 && c === count - 1)
                           .text);
        }
        text += parts.join(delim);
        if (r < rows - 1 || rng.chance(0.7)) text += rowEnd;
    }
    const body = enc.encode(text);
    const bytes = enc.bom ? Buffer.concat([enc.bom, body]) : body;

    // how csv_dump is told (or not) about encoding and delimiter
    let encodingArg;
    switch (encName) {
    case 'utf-8': encodingArg = rng.pick(['auto', 'utf-8']); break;
    case 'utf-8-bom': encodingArg = 'auto'; break;
    case 'windows-1252': {
        let validUtf8 = true;
        try {
            new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch (e) {
            validUtf8 = false;
        }
        encodingArg = validUtf8 ? 'windows-1252'
                                : rng.pick(['auto', 'windows-1252']);
        break;
    }
    case 'iso-8859-1': encodingArg = 'iso-8859-1'; break;
    case 'utf-16le-bom': encodingArg = rng.pick(['auto', 'utf-16le']); break;
    default: encodingArg = 'utf-16le'; break;
    }
    const delimiterArg = sniff(text) === delim && rng.chance(0.6)
        ? 'auto' : (delim === '\t' ? 'tab' : delim);
    return { encName, enc, delim, rowEnd, rows, badRows, bytes, encodingArg,
             delimiterArg, names };
}

// ---------------- comparison ----------------

function compare(index, file, dir) {
    const csvPath = path.join(dir, `f${index}.csv`);
    fs.writeFileSync(csvPath, file.bytes);
    const run = childProcess.spawnSync(dump, [
        '--lines', '--encoding', file.encodingArg,
        '--delimiter', file.delimiterArg, csvPath,
    ], { maxBuffer: 256 * 1024 * 1024 });
    fs.unlinkSync(csvPath);
    if (run.status !== 0 && run.status !== 3) {
        return `csv_dump exited ${run.status}: ${run.stderr}`;
    }
    const ours = run.stdout.toString('utf8').split('\n').filter((l) => l)
        .map((l) => JSON.parse(l));

    let decoded = file.enc.decode(file.enc.bom
        ? file.bytes.subarray(file.enc.bom.length) : file.bytes);
    if (decoded.startsWith('\uFEFF')) decoded = decoded.slice(1);
    const theirs = Papa.parse(decoded, {
        header: true, delimiter: file.delim, newline: file.rowEnd,
        quoteChar: '"', skipEmptyLines: true,
    });
    const mismatch = new Set();
    for (const e of theirs.errors) {
        if (e.type !== 'FieldMismatch') {
            return `papaparse reports ${e.code} at row ${e.row}: the ` +
                   'generator made an unclear case';
        }
        mismatch.add(e.row);
    }
    if (theirs.data.length > 0) {
        try {
            assert.deepStrictEqual(theirs.meta.fields, file.names);
        } catch (e) {
            return `papaparse header ${JSON.stringify(theirs.meta.fields)} ` +
                   `is not the generated ${JSON.stringify(file.names)}`;
        }
    }
    if (ours.length !== theirs.data.length) {
        return `${ours.length} rows from csv_dump, ${theirs.data.length} ` +
               'from papaparse';
    }
    let bad = 0;
    for (let i = 0; i < ours.length; i++) {
        if (mismatch.has(i)) {
            if (!ours[i].$error || !ours[i].$error.startsWith('wrong column count')) {
                return `row ${i}: papaparse: wrong field count; csv_dump: ` +
                       JSON.stringify(ours[i]);
            }
            bad++;
            continue;
        }
        try {
            assert.deepStrictEqual(ours[i], theirs.data[i]);
        } catch (e) {
            return `row ${i}:\n  csv_dump:  ${JSON.stringify(ours[i])}\n` +
                   `  papaparse: ${JSON.stringify(theirs.data[i])}`;
        }
    }
    if (bad !== file.badRows) {
        return `${bad} rows with the wrong field count, generated ` +
               `${file.badRows}`;
    }
    return { rows: ours.length, bad };
}

// ---------------- main ----------------

console.log(`csv_fuzz_diff: seed ${seed} (replay: CS_TEST_SEED=${seed}), ` +
            `${fileCount} files`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv_fuzz_diff.'));
const started = Date.now();
const stats = { files: 0, rows: 0, bad: 0, bytes: 0, byEncoding: {},
                byRowEnd: {}, byDelimiter: {}, auto: 0 };
let failures = 0;
try {
    for (let i = 0; i < fileCount; i++) {
        if (onlyFile >= 0 && i !== onlyFile) continue;
        if (Date.now() - started > budgetMs) {
            console.log(`time budget spent after ${stats.files} files`);
            break;
        }
        const file = makeFile(i);
        const result = compare(i, file, dir);
        if (typeof result === 'string') {
            failures++;
            console.log(`FAIL file ${i} (CS_TEST_SEED=${seed} ` +
                        `CS_CSV_DIFF_FILE=${i}): ${file.encName}, delimiter ` +
                        `${JSON.stringify(file.delim)}, rows end ` +
                        `${JSON.stringify(file.rowEnd)}, csv_dump --encoding ` +
                        `${file.encodingArg} --delimiter ${file.delimiterArg}` +
                        `\n  ${result}`);
            if (file.bytes.length < 3000) {
                console.log(`  file (hex): ${file.bytes.toString('hex')}`);
            }
            if (failures >= 5) break;
            continue;
        }
        stats.files++;
        stats.rows += result.rows;
        stats.bad += result.bad;
        stats.bytes += file.bytes.length;
        stats.byEncoding[file.encName] = (stats.byEncoding[file.encName] || 0) + 1;
        const endName = { '\n': 'LF', '\r\n': 'CRLF', '\r': 'CR' }[file.rowEnd];
        stats.byRowEnd[endName] = (stats.byRowEnd[endName] || 0) + 1;
        const delimName = file.delim === '\t' ? 'TAB' : file.delim;
        stats.byDelimiter[delimName] = (stats.byDelimiter[delimName] || 0) + 1;
        stats.auto += file.encodingArg === 'auto' || file.delimiterArg === 'auto';
    }
} finally {
    fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`files ${stats.files} agreed (${(stats.bytes / 1e6).toFixed(1)} MB), ` +
            `rows ${stats.rows} (${stats.bad} bad rows agreed on), ` +
            `${stats.auto} with something detected`);
console.log(`encodings ${JSON.stringify(stats.byEncoding)}; row ends ` +
            `${JSON.stringify(stats.byRowEnd)}; delimiters ` +
            `${JSON.stringify(stats.byDelimiter)}`);
console.log(`${stats.files} passed, ${failures} failed`);
process.exit(failures === 0 && stats.files > 0 ? 0 : 1);
