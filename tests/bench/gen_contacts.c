/*  gen_contacts - a deterministic, realistic Salesforce-style Contacts
 *  export, as CSV or JSON Lines, for benchmarks and tests.
 *  SPDX-License-Identifier: MIT
 *
 *  Usage: gen_contacts --rows N [--seed S] [--format csv|jsonl]
 *                      [--delimiter C] [--encoding utf-8|windows-1252]
 *                      [--quote minimal|all] [--order random|id]
 *                      [--crlf] [--bom] [--output FILE]
 *
 *  This command line is a stable interface: tests and benchmarks call it.
 *  Add options; do not change the meaning of existing ones.
 *
 *    --rows N          data rows to write (0 .. 1000000000; required)
 *    --seed S          64-bit seed (default 1)
 *    --format F        csv (default) or jsonl: one JSON object per line,
 *                      keys in column order, every value a string (an
 *                      empty field is "")
 *    --delimiter C     CSV field separator, one ASCII byte, or "tab"
 *                      (default ',')
 *    --encoding E      utf-8 (default) or windows-1252 (CSV only).
 *                      windows-1252 writes only characters it can encode:
 *                      Latin letters outside it are transliterated (L for
 *                      U+0141), other scripts use a romanised form (Li for
 *                      the surname U+674E), emoji become ASCII text
 *    --quote Q         minimal (default): quote a CSV field only if it
 *                      holds the delimiter, a quote, CR or LF; all: quote
 *                      every field, as Salesforce's own exports do
 *    --order O         random (default): Ids in no particular order;
 *                      id: rows in bytewise order of Id
 *    --crlf            end rows with CRLF instead of LF (line breaks
 *                      inside notes are unchanged)
 *    --bom             start a UTF-8 output with EF BB BF
 *    --output FILE     write to FILE instead of standard output
 *
 *  Columns (16): Id, AccountId, FirstName, LastName, Email, Phone,
 *  MobilePhone, Title, Department, MailingStreet, MailingCity,
 *  MailingPostalCode, MailingCountry, LeadSource, Description,
 *  LastModifiedDate. Ids are valid 18-character Salesforce ids (prefix 003
 *  for Contact, 001 for Account; the 3-character suffix encodes the case
 *  of the first 15), unique per row; there is about one account for 8
 *  contacts, the older accounts with more. Names, cities and streets come from
 * 18 countries, with non-ASCII letters and non-Latin scripts; some titles and
 * Brazilian streets hold commas; about 10% of rows have a multi-line street or
 *  note (LF, sometimes CRLF) and notes quote things ("like this").
 *  LastModifiedDate is ISO 8601 UTC with milliseconds
 *  (2023-07-14T09:31:05.000Z), between 2019 and 2024. A row averages
 *  about 250 bytes, so 1,000,000 rows make about 250 MB.
 *
 *  Row i depends only on the seed and i: the same in every format,
 *  delimiter and encoding (except that --order changes which Id it gets),
 *  and the first N rows of a longer run are the N-row output.
 *  The same arguments give the same bytes on every machine: no clock, no
 *  locale, no floating point. Editing the word lists below changes the
 *  output, so tests should compare runs of one build rather than hard-code
 *  digests of it. Memory use is constant: one row is built at a time.
 *
 *  Exit status: 0 done, 1 write error, 64 bad command line.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cs_sfid.h"

#define S_PROG       "gen_contacts"
#define S_EXIT_OK    0
#define S_EXIT_FAIL  1
#define S_EXIT_USAGE 64

#define S_ROWS_MAX  1000000000ULL
#define S_ROW_BYTES 8192      /* one row's text, far above the longest */
#define S_OUT_BYTES (1 << 20) /* output buffer */
#define S_COUNT(a)  (sizeof(a) / sizeof((a)[0]))
#define S_POOL(a)       \
    {                   \
        (a), S_COUNT(a) \
    }
#define S_FALLBACK '|' /* "UTF-8 text|ASCII form" in the pools */
#define S_BASE62 \
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define S_ID_SPACE    56800235584ULL /* 62^6: the counter part of an id */
#define S_PERM_BITS   36             /* 2^36 > 62^6 */

/* 2019-01-01T00:00:00Z and 2025-01-01T00:00:00Z, in Unix seconds */
#define S_TIME_FIRST 1546300800LL
#define S_TIME_END   1735689600LL

/* ---------------- word lists ---------------- */

/*  Every entry is UTF-8. An entry in a script windows-1252 cannot hold
 *  carries its ASCII form after a '|': that form is written in
 *  windows-1252 output and used for e-mail addresses. Latin letters
 *  outside windows-1252 (and all letters, in e-mail addresses) go through
 *  s_translit instead. s_pools_check verifies all this at start-up.
 */
typedef struct {
    const char *const *items; /* entries */
    size_t count;             /* number of entries, > 0 */
} s_pool_t;

typedef struct {
    const char *name;   /* city, maybe with an ASCII form */
    const char *postal; /* pattern, as for s_put_pattern */
} s_city_t;

typedef enum {
    S_STREET_NUMBER_FIRST, /* 1600 Main St */
    S_STREET_NUMBER_LAST,  /* Hauptstrasse 12 */
    S_STREET_NUMBER_COMMA, /* Avenida Paulista, 1578 */
} s_street_style_t;

typedef struct {
    const char *name;       /* MailingCountry */
    unsigned weight;        /* share of the contacts */
    const char *phone;      /* pattern, as for s_put_pattern */
    const char *mobile;     /* pattern, as for s_put_pattern */
    const char *tld;        /* of the company e-mail domains */
    s_street_style_t style; /* where the house number goes */
    const s_city_t *cities; /* cities with postal code patterns */
    size_t city_count;      /* entries in cities */
    s_pool_t streets;       /* street names */
    s_pool_t first_names;   /* given names */
    s_pool_t last_names;    /* family names */
} s_country_t;

static const char *const s_us_first[] = {
    "James",   "Mary",       "Robert", "Jennifer", "Michael",     "Linda",
    "William", "Elizabeth",  "David",  "Barbara",  "Richard",     "Susan",
    "Joseph",  "Jessica",    "Thomas", "Sarah",    "Christopher", "Karen",
    "Daniel",  "Nancy",      "Zoë",    "José",     "Siobhán",     "Renée",
    "Chloé",   "DeShawn",    "María",  "Priya",    "Wei",         "Mary Ann",
    "J.",      "Anne-Marie",
};
static const char *const s_us_last[] = {
    "Smith",         "Johnson",      "Williams", "Brown",       "Jones",
    "Miller",        "Davis",        "Wilson",   "Anderson",    "Taylor",
    "Thomas",        "Moore",        "Jackson",  "Martin",      "Lee",
    "Thompson",      "White",        "Harris",   "Clark",       "Lewis",
    "García",        "Rodríguez",    "O'Brien",  "O'Connor",    "Ñúñez",
    "Nguyễn|Nguyen", "Kim",          "Patel",    "Smith-Jones", "St. John",
    "McAllister",    "van der Berg",
};
static const char *const s_us_streets[] = {
    "Main St",          "Market Street",       "Oak Avenue",  "Broadway",
    "Elm Street",       "Mission St",          "5th Avenue",  "Peachtree Rd NE",
    "Lake Shore Drive", "Pennsylvania Ave NW", "Sunset Blvd", "Congress Avenue",
};
static const s_city_t s_us_cities[] = {
    { "San Francisco", "941##" }, { "New York", "100##" },
    { "Chicago", "606##" },       { "Austin", "787##" },
    { "Seattle", "981##" },       { "Boston", "021##" },
    { "Denver", "802##" },        { "Atlanta", "303##" },
    { "San José", "951##" },      { "Coeur d'Alene", "838##" },
};

static const char *const s_de_first[] = {
    "Thomas",     "Michael", "Stefan", "Andreas",    "Sabine",  "Julia",
    "Daniel",     "Markus",  "Katrin", "Peter",      "Jürgen",  "Lukas",
    "Anna",       "Sören",   "Jörg",   "Käthe",      "Günther", "Leonie",
    "Maximilian", "Uwe",     "Björn",  "Hans-Peter", "Ute",     "Jürgen",
};
static const char *const s_de_last[] = {
    "Becker",
    "Wagner",
    "Meyer",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weiß",
    "Schröder",
    "Groß",
    "Köhler",
    "Müller-Lüdenscheidt",
    "von Bülow",
    "Hoffmann",
    "Schäfer",
    "Krüger",
    "Wagner",
};
static const char *const s_de_streets[] = {
    "Hauptstraße",       "Schloßallee",  "Königsallee",   "Friedrichstraße",
    "Am Großen Wannsee", "Lindenstraße", "Bahnhofstraße", "Kurfürstendamm",
};
static const s_city_t s_de_cities[] = {
    { "Berlin", "10###" },   { "München", "80###" },
    { "Köln", "50###" },     { "Düsseldorf", "40###" },
    { "Hamburg", "20###" },  { "Frankfurt am Main", "60###" },
    { "Nürnberg", "90###" },
};

static const char *const s_fr_first[] = {
    "Nicolas", "Julien",   "Camille", "Marie",  "Pierre", "Sophie", "Thomas",
    "Laura",   "François", "Amélie",  "Hélène", "Jérôme", "Chloé",  "Zoé",
    "Benoît",  "Gaëlle",   "Noël",    "Léa",    "Éric",   "Anaïs",  "Jean-Luc",
};
static const char *const s_fr_last[] = {
    "Martin", "Bernard",  "Petit",    "Durand",         "Leroy",
    "Roux",   "Laurent",  "Dubois",   "Lefèvre",        "Moreau",
    "Girard", "Bérenger", "Fontaine", "Lemaître",       "Dupré",
    "D'Arcy", "Côté",     "Besnard",  "de la Fontaine",
};
static const char *const s_fr_streets[] = {
    "rue de la Paix",
    "avenue des Champs-Élysées",
    "boulevard Saint-Germain",
    "rue du Faubourg Saint-Honoré",
    "place de l'Hôtel-de-Ville",
    "quai d'Orsay",
    "rue de Rivoli",
};
static const s_city_t s_fr_cities[] = {
    { "Paris", "750##" },    { "Lyon", "6900#" },    { "Marseille", "130##" },
    { "Besançon", "25000" }, { "Orléans", "45000" }, { "Nîmes", "30000" },
};

static const char *const s_es_first[] = {
    "Carlos", "Javier", "Laura", "Pablo",  "Marta", "David", "Elena",
    "Sergio", "José",   "María", "Jesús",  "Ángel", "Lucía", "Begoña",
    "Íñigo",  "Núria",  "Sofía", "Álvaro", "Raúl",  "Inés",
};
static const char *const s_es_last[] = {
    "Torres",   "Ruiz",       "Romero",  "Navarro",   "Molina",
    "Vidal",    "Castro",     "García",  "Fernández", "Ñúñez",
    "Martínez", "López",      "Sánchez", "Muñoz",     "Peña",
    "Ibáñez",   "de la Cruz", "Gómez",   "Rodríguez",
};
static const char *const s_es_streets[] = {
    "Calle Mayor",     "Avenida de la Constitución", "Carrer de Balmes",
    "Plaza de España", "Paseo de la Castellana",     "Calle de Alcalá",
};
static const s_city_t s_es_cities[] = {
    { "Madrid", "280##" }, { "Barcelona", "080##" }, { "A Coruña", "150##" },
    { "Málaga", "290##" }, { "Sevilla", "410##" },
};

static const char *const s_pl_first[] = {
    "Anna",      "Piotr",    "Tomasz",     "Ewa",    "Marek",     "Adam",
    "Monika",    "Łukasz",   "Małgorzata", "Paweł",  "Agnieszka", "Wojciech",
    "Katarzyna", "Zbigniew", "Józef",      "Bożena", "Michał",    "Krzysztof",
};
static const char *const s_pl_last[] = {
    "Mazur",     "Krawczyk",  "Kaczmarek",   "Pawlak",
    "Nowicki",   "Nowak",     "Kowalski",    "Wiśniewski",
    "Wójcik",    "Kamiński",  "Lewandowski", "Zieliński",
    "Szymańska", "Dąbrowski", "Żak",         "Głowacka",
};
static const char *const s_pl_streets[] = {
    "ul. Marszałkowska", "ul. Piotrkowska",   "ul. Długa",
    "ul. Świętokrzyska", "al. Jerozolimskie", "ul. Floriańska",
};
static const s_city_t s_pl_cities[] = {
    { "Warszawa", "00-###" }, { "Kraków", "30-###" },  { "Łódź", "90-###" },
    { "Gdańsk", "80-###" },   { "Wrocław", "50-###" },
};

static const char *const s_no_first[] = {
    "Lars",  "Kari",    "Anders",  "Erik",    "Nina",  "Per",
    "Marte", "Håkon",   "Øystein", "Solveig", "Bjørn", "Ingrid",
    "Ægir",  "Kjersti", "Sigrid",  "Ola",
};
static const char *const s_no_last[] = {
    "Larsen",   "Andersen", "Pedersen", "Nilsen", "Berg",   "Haugen", "Hansen",
    "Johansen", "Ødegård",  "Løvås",    "Bråten", "Sæther", "Olsen",  "Dæhlie",
};
static const char *const s_no_streets[] = {
    "Karl Johans gate",       "Storgata",        "Bryggen",
    "Dronning Eufemias gate", "Øvre Slottsgate",
};
static const s_city_t s_no_cities[] = {
    { "Oslo", "0###" },
    { "Tromsø", "90##" },
    { "Bergen", "50##" },
    { "Trondheim", "70##" },
};

static const char *const s_se_first[] = {
    "Erik", "Anna",  "Lars",   "Karin", "Johan", "Emma",   "Anders", "Björn",
    "Åsa",  "Märta", "Linnéa", "Göran", "Oskar", "Astrid", "Sven",
};
static const char *const s_se_last[] = {
    "Karlsson", "Nilsson",   "Eriksson",  "Larsson",   "Olsson",
    "Persson",  "Andersson", "Åström",    "Söderberg", "Lindqvist",
    "Öberg",    "Nyström",   "Johansson", "Ekström",
};
static const char *const s_se_streets[] = {
    "Kungsgatan", "Drottninggatan", "Götgatan", "Strandvägen", "Sveavägen",
};
static const s_city_t s_se_cities[] = {
    { "Stockholm", "1## ##" },
    { "Göteborg", "41# ##" },
    { "Malmö", "21# ##" },
    { "Uppsala", "75# ##" },
};

static const char *const s_is_first[] = {
    "Ægir", "Þórunn", "Guðrún", "Sigurður", "Ólafur", "Björk", "Halldóra",
};
static const char *const s_is_last[] = {
    "Jónsdóttir",     "Þórsson",  "Guðmundsson",
    "Sigurðardóttir", "Ólafsson", "Einarsdóttir",
};
static const char *const s_is_streets[] = {
    "Laugavegur",
    "Skólavörðustígur",
    "Hafnarstræti",
    "Borgartún",
};
static const s_city_t s_is_cities[] = {
    { "Reykjavík", "1##" },
    { "Akureyri", "6##" },
    { "Kópavogur", "20#" },
};

static const char *const s_ie_first[] = {
    "Conor",   "Sarah",   "Patrick", "Emma",   "Sean",
    "Ciara",   "Siobhán", "Niamh",   "Seán",   "Aoife",
    "Pádraig", "Caoimhe", "Ciarán",  "Róisín", "Eoin",
};
static const char *const s_ie_last[] = {
    "Ryan",
    "Doyle",
    "Kennedy",
    "Lynch",
    "Murray",
    "O'Brien",
    "Ó Súilleabháin",
    "Murphy",
    "Kelly",
    "O'Sullivan",
    "Mac Giolla Phádraig",
    "Byrne",
    "Ní Bhriain",
    "Walsh",
};
static const char *const s_ie_streets[] = {
    "O'Connell Street", "Grafton Street", "St. Stephen's Green",
    "Dame Street",      "Patrick Street",
};
static const s_city_t s_ie_cities[] = {
    { "Dublin", "D0# @#@#" },
    { "Cork", "T12 @#@#" },
    { "Galway", "H91 @#@#" },
};

static const char *const s_uk_first[] = {
    "Oliver", "Amelia", "Harry",  "Isla",      "George", "Zoë",
    "Siân",   "Rhys",   "Eilidh", "Charlotte", "Alfie",
};
static const char *const s_uk_last[] = {
    "Smith",   "Jones",  "Taylor",  "Davies",
    "Evans",   "Wilson", "Smythe",  "Featherstonehaugh",
    "ap Rhys", "Wright", "O'Neill",
};
static const char *const s_uk_streets[] = {
    "High Street",  "Baker Street", "King's Road",
    "Station Road", "Church Lane",  "Victoria Road",
};
static const s_city_t s_uk_cities[] = {
    { "London", "SW1A #@@" },   { "London", "EC1A #@@" },
    { "Manchester", "M1 #@@" }, { "Edinburgh", "EH1 #@@" },
    { "Cardiff", "CF10 #@@" },
};

static const char *const s_cn_first[] = {
    "娜|Na",    "伟|Wei", "芳|Fang",      "静|Jing",
    "强|Qiang", "磊|Lei", "秀英|Xiuying",
};
static const char *const s_cn_last[] = {
    "李|Li", "王|Wang", "张|Zhang", "刘|Liu", "陈|Chen", "欧阳|Ouyang",
};
static const char *const s_cn_streets[] = {
    "建国门外大街|Jianguomenwai Dajie",
    "南京东路|Nanjing East Road",
    "深南大道|Shennan Avenue",
    "天河路|Tianhe Road",
};
static const s_city_t s_cn_cities[] = {
    { "北京|Beijing", "100###" },
    { "上海|Shanghai", "200###" },
    { "深圳|Shenzhen", "518###" },
    { "广州|Guangzhou", "510###" },
};

static const char *const s_jp_first[] = {
    "陽翔|Haruto",   "結衣|Yui", "翔太|Shota",
    "さくら|Sakura", "健|Ken",   "美咲|Misaki",
};
static const char *const s_jp_last[] = {
    "佐藤|Sato",   "鈴木|Suzuki",   "高橋|Takahashi",
    "田中|Tanaka", "渡辺|Watanabe", "伊藤|Ito",
};
static const char *const s_jp_streets[] = {
    "丸の内|Marunouchi",
    "銀座|Ginza",
    "梅田|Umeda",
    "六本木|Roppongi",
};
static const s_city_t s_jp_cities[] = {
    { "東京|Tokyo", "100-####" },
    { "大阪|Osaka", "530-####" },
    { "京都|Kyoto", "600-####" },
};

static const char *const s_br_first[] = {
    "Lucas",  "Gabriel", "Rafael",    "Ana",     "Juliana", "Bruno",
    "Camila", "João",    "Conceição", "Luíza",   "Gonçalo", "Mônica",
    "Thiago", "Fátima",  "Antônio",   "Letícia",
};
static const char *const s_br_last[] = {
    "Souza",     "Lima",      "Pereira", "Ferreira",  "Rodrigues",
    "Alves",     "Silva",     "Santos",  "Gonçalves", "Araújo",
    "Conceição", "Magalhães", "Simões",  "Oliveira",  "Castro",
};
static const char *const s_br_streets[] = {
    "Avenida Paulista",  "Rua Augusta",      "Rua da Consolação",
    "Avenida Atlântica", "Rua Oscar Freire",
};
static const s_city_t s_br_cities[] = {
    { "São Paulo", "0####-###" },
    { "Rio de Janeiro", "2####-###" },
    { "Belo Horizonte", "3####-###" },
    { "Florianópolis", "88###-###" },
};

static const char *const s_tr_first[] = {
    "Emre",  "Can",    "Murat", "Elif",  "Zeynep", "Ali",    "Deniz", "Çağla",
    "İlker", "Gökhan", "Şule",  "Barış", "Ayşe",   "Mehmet", "Özlem",
};
static const char *const s_tr_last[] = {
    "Arslan", "Kara",  "Polat", "Kurt",  "Aksoy",  "Yılmaz",
    "Kaya",   "Demir", "Şahin", "Çelik", "Öztürk", "Aydın",
};
static const char *const s_tr_streets[] = {
    "İstiklal Caddesi",
    "Bağdat Caddesi",
    "Atatürk Bulvarı",
    "Cumhuriyet Caddesi",
};
static const s_city_t s_tr_cities[] = {
    { "İstanbul", "34###" },
    { "Ankara", "06###" },
    { "İzmir", "35###" },
};

static const char *const s_gr_first[] = {
    "Γιώργος|Giorgos", "Μαρία|Maria", "Δημήτρης|Dimitris",
    "Ελένη|Eleni",     "Νίκος|Nikos",
};
static const char *const s_gr_last[] = {
    "Παπαδόπουλος|Papadopoulos",
    "Νικολάου|Nikolaou",
    "Οικονόμου|Oikonomou",
    "Γεωργίου|Georgiou",
};
static const char *const s_gr_streets[] = {
    "Οδός Ερμού|Ermou Street",
    "Λεωφόρος Βασιλίσσης Σοφίας|Vasilissis Sofias Avenue",
    "Οδός Τσιμισκή|Tsimiski Street",
};
static const s_city_t s_gr_cities[] = {
    { "Αθήνα|Athens", "105 ##" },
    { "Θεσσαλονίκη|Thessaloniki", "546 ##" },
};

static const char *const s_ua_first[] = {
    "Олена|Olena",   "Андрій|Andriy", "Оксана|Oksana",
    "Дмитро|Dmytro", "Ірина|Iryna",
};
static const char *const s_ua_last[] = {
    "Шевченко|Shevchenko",
    "Коваленко|Kovalenko",
    "Бондаренко|Bondarenko",
    "Ткаченко|Tkachenko",
};
static const char *const s_ua_streets[] = {
    "вул. Хрещатик|Khreshchatyk St",
    "вул. Січових Стрільців|Sichovykh Striltsiv St",
    "пл. Ринок|Rynok Sq",
};
static const s_city_t s_ua_cities[] = {
    { "Київ|Kyiv", "01###" },
    { "Львів|Lviv", "79###" },
};

static const char *const s_in_first[] = {
    "Priya",   "Rahul",     "Ananya",  "Arjun",
    "Lakshmi", "आरव|Aarav", "Deepika", "Vikram",
};
static const char *const s_in_last[] = {
    "Sharma", "Patel",      "Iyer",  "Reddy",
    "Gupta",  "Chatterjee", "Singh", "शर्मा|Sharma",
};
static const char *const s_in_streets[] = {
    "MG Road",
    "Brigade Road",
    "Linking Road",
    "Nehru Place",
};
static const s_city_t s_in_cities[] = {
    { "Mumbai", "400 ###" },
    { "Bengaluru", "560 ###" },
    { "New Delhi", "110 ###" },
};

static const char *const s_vn_first[] = {
    "Minh", "Lan", "Hùng|Hung", "Thảo|Thao", "Dũng|Dung", "Anh",
};
static const char *const s_vn_last[] = {
    "Nguyễn|Nguyen", "Trần|Tran", "Lê", "Phạm|Pham", "Hoàng", "Võ",
};
static const char *const s_vn_streets[] = {
    "Đường Lê Lợi|Duong Le Loi",
    "Đường Đồng Khởi|Duong Dong Khoi",
    "Phố Hàng Bạc|Pho Hang Bac",
};
static const s_city_t s_vn_cities[] = {
    { "Hồ Chí Minh|Ho Chi Minh", "700000" },
    { "Hà Nội|Ha Noi", "100000" },
};

#define S_COUNTRY(name, weight, phone, mobile, tld, style, cc)                \
    {                                                                         \
        (name), (weight), (phone), (mobile), (tld), (style), s_##cc##_cities, \
            S_COUNT(s_##cc##_cities), S_POOL(s_##cc##_streets),               \
            S_POOL(s_##cc##_first), S_POOL(s_##cc##_last)                     \
    }

static const s_country_t s_countries[] = {
    S_COUNTRY("United States", 30, "+1 %##-%##-####", "+1 %##-%##-####", ".com",
              S_STREET_NUMBER_FIRST, us),
    S_COUNTRY("Germany", 12, "+49 ## ########", "+49 15# #######", ".de",
              S_STREET_NUMBER_LAST, de),
    S_COUNTRY("France", 7, "+33 # ## ## ## ##", "+33 6 ## ## ## ##", ".fr",
              S_STREET_NUMBER_FIRST, fr),
    S_COUNTRY("Spain", 5, "+34 9## ### ###", "+34 6## ### ###", ".es",
              S_STREET_NUMBER_LAST, es),
    S_COUNTRY("Poland", 4, "+48 ## ### ## ##", "+48 5## ### ###", ".pl",
              S_STREET_NUMBER_LAST, pl),
    S_COUNTRY("Norway", 2, "+47 ## ## ## ##", "+47 4## ## ###", ".no",
              S_STREET_NUMBER_LAST, no),
    S_COUNTRY("Sweden", 3, "+46 8-### ### ##", "+46 70-### ## ##", ".se",
              S_STREET_NUMBER_LAST, se),
    S_COUNTRY("Iceland", 1, "+354 5## ####", "+354 8## ####", ".is",
              S_STREET_NUMBER_LAST, is),
    S_COUNTRY("Ireland", 2, "+353 1 ### ####", "+353 8# ### ####", ".ie",
              S_STREET_NUMBER_FIRST, ie),
    S_COUNTRY("United Kingdom", 6, "+44 20 #### ####", "+44 7### ######",
              ".co.uk", S_STREET_NUMBER_FIRST, uk),
    S_COUNTRY("China", 4, "+86 10 ####-####", "+86 13# #### ####", ".cn",
              S_STREET_NUMBER_LAST, cn),
    S_COUNTRY("Japan", 3, "+81 3-####-####", "+81 90-####-####", ".co.jp",
              S_STREET_NUMBER_LAST, jp),
    S_COUNTRY("Brazil", 3, "+55 11 ####-####", "+55 11 9####-####", ".com.br",
              S_STREET_NUMBER_COMMA, br),
    S_COUNTRY("Türkiye", 2, "+90 212 ### ## ##", "+90 5## ### ## ##", ".com.tr",
              S_STREET_NUMBER_LAST, tr),
    S_COUNTRY("Greece", 1, "+30 21# ### ####", "+30 69# ### ####", ".gr",
              S_STREET_NUMBER_LAST, gr),
    S_COUNTRY("Ukraine", 1, "+380 44 ### ## ##", "+380 67 ### ## ##", ".ua",
              S_STREET_NUMBER_LAST, ua),
    S_COUNTRY("India", 3, "+91 22 #### ####", "+91 9#### #####", ".in",
              S_STREET_NUMBER_FIRST, in),
    S_COUNTRY("Vietnam", 1, "+84 28 #### ####", "+84 9# ### ## ##", ".vn",
              S_STREET_NUMBER_LAST, vn),
};

/* second street lines: a multi-line MailingStreet */
static const char *const s_street_extra[] = {
    "Suite 400",
    "Floor 12",
    "Building 5, Floor 3",
    "c/o Accounts Payable",
    "Apt. 4B",
    "Postfach 12 34",
    "2e étage",
    "Unit 7, Block C",
    "Attn: \"Receiving\" dock",
    "P.O. Box 1024",
};

static const char *const s_companies[] = {
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "soylent",
    "wayne-ent",
    "stark-ind",
    "wonka",
    "tyrell",
    "cyberdyne",
    "aperture",
    "oscorp",
    "monarch",
    "nakatomi",
    "dunder-mifflin",
    "pied-piper",
    "massive-dynamic",
    "gringotts",
    "virtucon",
    "prestige",
    "buynlarge",
    "zorg",
    "wernham-hogg",
    "kruger-industrial",
    "bluth",
    "sterling-cooper",
    "ollivanders",
    "los-pollos",
};

static const char *const s_mail_providers[] = {
    "gmail.com", "outlook.com", "yahoo.com",  "web.de",
    "gmx.net",   "orange.fr",   "icloud.com", "proton.me",
};

static const char *const s_titles[] = {
    "CEO",
    "CFO",
    "CTO",
    "COO",
    "VP, Sales",
    "VP, Marketing",
    "VP, Engineering",
    "Director, Procurement",
    "Director of Operations",
    "Head of IT",
    "IT Manager",
    "Sales Manager",
    "Account Executive",
    "Senior Account Executive",
    "Office Manager",
    "Purchasing Agent",
    "Buyer",
    "Software Engineer",
    "Product Manager",
    "Marketing Coordinator",
    "Regional Sales Manager, EMEA",
    "Assistant to the CEO",
    "Owner",
    "Founder & CEO",
    "Head of Special Projects",
    "Controller",
    "Chief Revenue Officer",
};

/* titles in the language of the branch office, for a few contacts */
static const char *const s_titles_local[] = {
    "Geschäftsführer", "Directeur général",   "Responsable des achats",
    "Jefe de compras", "Kierownik działu IT", "Diretor comercial",
    "Inköpschef",      "Innkjøpssjef",
};

static const char *const s_departments[] = {
    "Sales",       "Marketing",       "Finance", "IT",      "Operations",
    "Procurement", "Human Resources", "Legal",   "R&D",     "Customer Success",
    "Executive",   "Einkauf",         "Achats",  "Compras", "Support",
};

static const char *const s_lead_sources[] = {
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Trade Show",
    "Word of mouth",
    "Employee Referral",
    "Other",
    "External Referral",
    "Webinar",
};

static const char *const s_notes[] = {
    "Met at Dreamforce; follow up after Q3.",
    "Prefers email. Do not call before 10:00.",
    "Asked about pricing for the \"Enterprise\" tier.",
    "Budget approved: €25,000 for FY2024.",
    "Renewal due in March – send the quote by February.",
    "Decision maker, but defers to IT on security questions.",
    "Spricht lieber Deutsch; Angebot bitte auf Deutsch schicken.",
    "Préfère être contacté le matin, jamais le vendredi.",
    "Contactar por WhatsApp, no por teléfono.",
    "Referred by Zoë at the Oslo office.",
    "Said our competitor's product is good enough for now.",
    "Wants a demo of the reporting module… again.",
    "Left a voicemail, no reply yet.",
    "Assistant: Ægir Þórsson (ext. 4471).",
    "Signed NDA 2023-11-02.",
    "Interested in the 5\" and 7\" models.",
    "Uses “smart quotes” in every email.",
    "Moved from the Kraków office to Łódź.",
    "Great call today 👍|Great call today :)",
    "客户要求中文合同。|Customer asks for a Chinese-language contract.",
    "Friendly → invite to the summit.|Friendly -> invite to the summit.",
    "Do NOT email the old address (j.doe@oldcorp.com).",
    "Allergic to peanuts – note for the dinner event.",
    "Has 3 kids, loves sailing. Ask about the boat!",
    "Opted out of newsletters in 2022.",
    "Invoices go to accounts payable, not to her.",
    "Prefers to be called \"Bob\".",
    "Key contact for the Acme–Globex merger; very busy.",
    "Churn risk: complained about support response times.",
    "Upsell: 40 more seats, maybe 60.",
    "Out of office until the 15th, then in Zürich.",
    "Birthday in June — send a card.",
    "Wrote that they'll revisit in Q1 – probably a no.",
    "Needs the DPA signed before any pilot.",
};

/* column names, in output order */
static const char *const s_columns[] = {
    "Id",
    "AccountId",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "Title",
    "Department",
    "MailingStreet",
    "MailingCity",
    "MailingPostalCode",
    "MailingCountry",
    "LeadSource",
    "Description",
    "LastModifiedDate",
};
#define S_COLUMN_COUNT S_COUNT(s_columns)

/* ---------------- Unicode helpers ---------------- */

typedef struct {
    uint32_t code;     /* code point */
    const char *ascii; /* its ASCII transliteration */
} s_translit_t;

/* sorted by code point: Latin letters of the word lists */
static const s_translit_t s_translits[] = {
    { 0x00C0, "A" },  { 0x00C1, "A" },  { 0x00C2, "A" },  { 0x00C3, "A" },
    { 0x00C4, "A" },  { 0x00C5, "A" },  { 0x00C6, "AE" }, { 0x00C7, "C" },
    { 0x00C8, "E" },  { 0x00C9, "E" },  { 0x00CA, "E" },  { 0x00CB, "E" },
    { 0x00CC, "I" },  { 0x00CD, "I" },  { 0x00CE, "I" },  { 0x00CF, "I" },
    { 0x00D0, "D" },  { 0x00D1, "N" },  { 0x00D2, "O" },  { 0x00D3, "O" },
    { 0x00D4, "O" },  { 0x00D5, "O" },  { 0x00D6, "O" },  { 0x00D8, "O" },
    { 0x00D9, "U" },  { 0x00DA, "U" },  { 0x00DB, "U" },  { 0x00DC, "U" },
    { 0x00DD, "Y" },  { 0x00DE, "Th" }, { 0x00DF, "ss" }, { 0x00E0, "a" },
    { 0x00E1, "a" },  { 0x00E2, "a" },  { 0x00E3, "a" },  { 0x00E4, "a" },
    { 0x00E5, "a" },  { 0x00E6, "ae" }, { 0x00E7, "c" },  { 0x00E8, "e" },
    { 0x00E9, "e" },  { 0x00EA, "e" },  { 0x00EB, "e" },  { 0x00EC, "i" },
    { 0x00ED, "i" },  { 0x00EE, "i" },  { 0x00EF, "i" },  { 0x00F0, "d" },
    { 0x00F1, "n" },  { 0x00F2, "o" },  { 0x00F3, "o" },  { 0x00F4, "o" },
    { 0x00F5, "o" },  { 0x00F6, "o" },  { 0x00F8, "o" },  { 0x00F9, "u" },
    { 0x00FA, "u" },  { 0x00FB, "u" },  { 0x00FC, "u" },  { 0x00FD, "y" },
    { 0x00FE, "th" }, { 0x00FF, "y" },  { 0x0104, "A" },  { 0x0105, "a" },
    { 0x0106, "C" },  { 0x0107, "c" },  { 0x010C, "C" },  { 0x010D, "c" },
    { 0x0110, "D" },  { 0x0111, "d" },  { 0x0118, "E" },  { 0x0119, "e" },
    { 0x011E, "G" },  { 0x011F, "g" },  { 0x0130, "I" },  { 0x0131, "i" },
    { 0x0141, "L" },  { 0x0142, "l" },  { 0x0143, "N" },  { 0x0144, "n" },
    { 0x0150, "O" },  { 0x0151, "o" },  { 0x0152, "OE" }, { 0x0153, "oe" },
    { 0x0158, "R" },  { 0x0159, "r" },  { 0x015A, "S" },  { 0x015B, "s" },
    { 0x015E, "S" },  { 0x015F, "s" },  { 0x0160, "S" },  { 0x0161, "s" },
    { 0x0178, "Y" },  { 0x0179, "Z" },  { 0x017A, "z" },  { 0x017B, "Z" },
    { 0x017C, "z" },  { 0x017D, "Z" },  { 0x017E, "z" },
};

/* windows-1252 bytes 0x80..0x9F, as code points (0: undefined) */
static const uint32_t s_cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

/* Decode the UTF-8 sequence at *s (trusted: from the word lists) and
 * advance *s past it. */
static uint32_t
s_utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *) *s;
    uint32_t code;
    size_t len;
    if (p[0] < 0x80) {
        code = p[0];
        len = 1;
    } else if (p[0] < 0xE0) {
        code = p[0] & 0x1Fu;
        len = 2;
    } else if (p[0] < 0xF0) {
        code = p[0] & 0x0Fu;
        len = 3;
    } else {
        code = p[0] & 0x07u;
        len = 4;
    }
    for (size_t i = 1; i < len; i++) {
        assert((p[i] & 0xC0u) == 0x80u);
        code = (code << 6) | (p[i] & 0x3Fu);
    }
    *s += len;
    return code;
}

/* The ASCII transliteration of @p code, or NULL if there is none. */
static const char *
s_translit(uint32_t code)
{
    size_t lo = 0;
    size_t hi = S_COUNT(s_translits);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_translits[mid].code == code) {
            return s_translits[mid].ascii;
        }
        if (s_translits[mid].code < code) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* The windows-1252 byte for @p code, or -1 if it has none. */
static int
s_cp1252_byte(uint32_t code)
{
    if (code < 0x80 || (code >= 0xA0 && code <= 0xFF)) {
        return (int) code;
    }
    for (int i = 0; i < 32; i++) {
        if (s_cp1252_high[i] != 0 && s_cp1252_high[i] == code) {
            return 0x80 + i;
        }
    }
    return -1;
}

/* ---------------- options and state ---------------- */

typedef enum {
    S_FORMAT_CSV,
    S_FORMAT_JSONL,
} s_format_t;

typedef enum {
    S_ENCODING_UTF8,
    S_ENCODING_CP1252,
} s_encoding_t;

typedef struct {
    uint64_t rows;         /* data rows to write */
    uint64_t seed;         /* the seed */
    s_format_t format;     /* csv or jsonl */
    char delimiter;        /* CSV separator */
    s_encoding_t encoding; /* output encoding */
    bool quote_all;        /* quote every CSV field */
    bool sorted;           /* --order id */
    bool crlf;             /* CRLF row ends */
    bool bom;              /* write a UTF-8 BOM */
    const char *output;    /* file name, NULL for stdout */
} s_opts_t;

typedef struct {
    char text[S_ROW_BYTES];     /* the fields, back to back, UTF-8 */
    size_t len;                 /* bytes used in text */
    size_t end[S_COLUMN_COUNT]; /* end offset of each finished field */
    size_t fields;              /* finished fields */
} s_row_t;

typedef struct {
    FILE *file;            /* destination */
    const char *name;      /* for messages */
    char buf[S_OUT_BYTES]; /* pending bytes */
    size_t len;            /* bytes used in buf */
    bool failed;           /* a write failed (reported once) */
} s_out_t;

typedef struct {
    const s_opts_t *opts;  /* the command line */
    uint64_t rng;          /* this row's random state */
    uint64_t contact_key;  /* permutes row numbers to contact ids */
    uint64_t account_key;  /* permutes account numbers to their ids */
    unsigned weight_total; /* sum of the country weights */
    s_row_t row;           /* the row being built */
    s_out_t out;           /* the output */
} s_gen_t;

/* ---------------- random numbers ---------------- */

static uint64_t
s_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64 */
static uint64_t
s_random(s_gen_t *self)
{
    self->rng += 0x9e3779b97f4a7c15ULL;
    return s_mix64(self->rng);
}

/* A bijection of [0, 62^6) keyed by @p key: a mix of 36-bit words
 * (xor, odd multiply, xorshift: each invertible), cycle-walked until it
 * lands inside the range. Turns row numbers into ids in no order. */
static uint64_t
s_permute(uint64_t value, uint64_t key)
{
    const uint64_t mask = (1ULL << S_PERM_BITS) - 1;
    assert(value < S_ID_SPACE);
    do {
        value = (value ^ key) & mask;
        value = (value * 0xd6e8feb86659fd93ULL) & mask;
        value ^= value >> 17;
        value = (value * 0xa3b195354a39b70dULL) & mask;
        value ^= value >> 19;
    } while (value >= S_ID_SPACE);
    return value;
}

/* uniform in [0, n), n <= 2^32 */
static uint32_t
s_below(s_gen_t *self, uint64_t n)
{
    assert(n > 0 && n <= (1ULL << 32));
    return (uint32_t) (((s_random(self) >> 32) * n) >> 32);
}

static bool
s_percent(s_gen_t *self, unsigned percent)
{
    return s_below(self, 100) < percent;
}

static const char *
s_pick(s_gen_t *self, const s_pool_t *pool)
{
    return pool->items[s_below(self, pool->count)];
}

#define S_PICK(self, array) ((array)[s_below((self), S_COUNT(array))])

/* ---------------- building a row ---------------- */

static void
s_put(s_gen_t *self, const char *bytes, size_t len)
{
    s_row_t *row = &self->row;
    assert(row->len + len <= sizeof(row->text));
    memcpy(row->text + row->len, bytes, len);
    row->len += len;
}

static void
s_put_str(s_gen_t *self, const char *str)
{
    s_put(self, str, strlen(str));
}

static void
s_put_char(s_gen_t *self, char c)
{
    s_put(self, &c, 1);
}

/* An entry of a word list: its UTF-8 text, or in windows-1252 output its
 * ASCII form if it has one. */
static void
s_put_entry(s_gen_t *self, const char *entry)
{
    const char *bar = strchr(entry, S_FALLBACK);
    if (!bar) {
        s_put_str(self, entry);
    } else if (self->opts->encoding == S_ENCODING_CP1252) {
        s_put_str(self, bar + 1);
    } else {
        s_put(self, entry, (size_t) (bar - entry));
    }
}

/* An entry folded to lower-case ASCII letters, digits and '-', for the
 * local part of an e-mail address. */
static void
s_put_folded(s_gen_t *self, const char *entry)
{
    const char *bar = strchr(entry, S_FALLBACK);
    const char *s = bar ? bar + 1 : entry;
    while (*s) {
        uint32_t code = s_utf8_next(&s);
        const char *ascii = NULL;
        char one[2] = { 0, 0 };
        if (code < 0x80) {
            one[0] = (char) code;
            ascii = one;
        } else {
            ascii = s_translit(code);
            assert(ascii);
        }
        for (; *ascii; ascii++) {
            char c = *ascii;
            if (c >= 'A' && c <= 'Z') {
                s_put_char(self, (char) (c - 'A' + 'a'));
            } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-') {
                s_put_char(self, c);
            }
        }
    }
}

/* A pattern: # a random digit, % a digit 2-9, @ a capital letter. */
static void
s_put_pattern(s_gen_t *self, const char *pattern)
{
    for (const char *p = pattern; *p; p++) {
        if (*p == '#') {
            s_put_char(self, (char) ('0' + s_below(self, 10)));
        } else if (*p == '%') {
            s_put_char(self, (char) ('2' + s_below(self, 8)));
        } else if (*p == '@') {
            s_put_char(self, "ABCDEFGHJKLMNPRSTVWXY"[s_below(self, 21)]);
        } else {
            s_put_char(self, *p);
        }
    }
}

static void
s_put_uint(s_gen_t *self, unsigned value)
{
    char buf[16];
    size_t start = sizeof(buf);
    do {
        buf[--start] = (char) ('0' + value % 10);
        value /= 10;
    } while (value > 0);
    s_put(self, buf + start, sizeof(buf) - start);
}

/* @p value in exactly @p width decimal digits, at @p buf. */
static void
s_format_digits(char *buf, int64_t value, int width)
{
    assert(value >= 0);
    for (int i = width - 1; i >= 0; i--) {
        buf[i] = (char) ('0' + value % 10);
        value /= 10;
    }
    assert(value == 0);
}

/* A valid 18-character Salesforce id: @p prefix (9 characters: key
 * prefix, pod, zeros), @p counter in base 62 (6 characters), then the
 * suffix that records which of the first 15 are capitals. */
static void
s_put_sfid(s_gen_t *self, const char *prefix, uint64_t counter)
{
    char id[18];
    assert(strlen(prefix) == 9);
    assert(counter < S_ID_SPACE);
    memcpy(id, prefix, 9);
    for (int i = 14; i >= 9; i--) {
        id[i] = S_BASE62[counter % 62];
        counter /= 62;
    }
    cs_sfid_suffix(id, id + 15);
    s_put(self, id, sizeof(id));
}

/* 2023-07-14T09:31:05.000Z for Unix time @p t (Howard Hinnant's
 * days-to-civil). */
static void
s_put_timestamp(s_gen_t *self, int64_t t)
{
    int64_t days = t / 86400;
    int64_t secs = t % 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    char buf[] = "YYYY-MM-DDTHH:MM:SS.000Z";
    s_format_digits(buf, year, 4);
    s_format_digits(buf + 5, month, 2);
    s_format_digits(buf + 8, day, 2);
    s_format_digits(buf + 11, secs / 3600, 2);
    s_format_digits(buf + 14, secs / 60 % 60, 2);
    s_format_digits(buf + 17, secs % 60, 2);
    s_put(self, buf, sizeof(buf) - 1);
}

static void
s_end_field(s_gen_t *self)
{
    s_row_t *row = &self->row;
    assert(row->fields < S_COLUMN_COUNT);
    row->end[row->fields++] = row->len;
}

static const s_country_t *
s_pick_country(s_gen_t *self)
{
    unsigned ticket = s_below(self, self->weight_total);
    for (size_t i = 0; i < S_COUNT(s_countries); i++) {
        if (ticket < s_countries[i].weight) {
            return &s_countries[i];
        }
        ticket -= s_countries[i].weight;
    }
    assert(false);
    return &s_countries[0];
}

static void
s_put_email(s_gen_t *self, const char *first, const char *last,
            const char *company, const s_country_t *country)
{
    unsigned style = s_below(self, 100);
    if (style < 4) {
        return; /* no address */
    }
    if (style < 54) {
        s_put_folded(self, first);
        s_put_char(self, '.');
        s_put_folded(self, last);
    } else if (style < 74) {
        const char *bar = strchr(first, S_FALLBACK);
        const char *initial = bar ? bar + 1 : first;
        char letter[5] = { 0 };
        const char *end = initial;
        (void) s_utf8_next(&end);
        memcpy(letter, initial, (size_t) (end - initial));
        s_put_folded(self, letter);
        s_put_folded(self, last);
    } else if (style < 84) {
        s_put_folded(self, first);
        s_put_char(self, '_');
        s_put_folded(self, last);
    } else if (style < 90) {
        s_put_folded(self, first);
    } else {
        s_put_folded(self, first);
        s_put_folded(self, last);
        s_put_uint(self, s_below(self, 100));
        s_put_char(self, '@');
        s_put_str(self, S_PICK(self, s_mail_providers));
        return;
    }
    s_put_char(self, '@');
    s_put_str(self, company);
    s_put_str(self, country->tld);
}

static void
s_put_street(s_gen_t *self, const s_country_t *country)
{
    const char *street = s_pick(self, &country->streets);
    unsigned number = 1 + s_below(self, s_percent(self, 70) ? 120 : 2400);
    switch (country->style) {
    case S_STREET_NUMBER_FIRST:
        s_put_uint(self, number);
        s_put_char(self, ' ');
        s_put_entry(self, street);
        break;
    case S_STREET_NUMBER_LAST:
        s_put_entry(self, street);
        s_put_char(self, ' ');
        s_put_uint(self, number);
        break;
    case S_STREET_NUMBER_COMMA:
        s_put_entry(self, street);
        s_put_str(self, ", ");
        s_put_uint(self, number);
        break;
    }
    if (s_percent(self, 5)) {
        s_put_char(self, '\n');
        s_put_entry(self, S_PICK(self, s_street_extra));
    }
}

static void
s_put_description(s_gen_t *self)
{
    if (s_percent(self, 45)) {
        return;
    }
    unsigned kind = s_below(self, 100);
    const char *join = " ";
    if (kind < 10) {
        join = "\n";
    } else if (kind < 13) {
        join = "\r\n";
    } else if (kind < 15) {
        join = "\n\n";
    }
    unsigned notes = 1 + s_below(self, 3);
    for (unsigned i = 0; i < notes; i++) {
        if (i > 0) {
            s_put_str(self, join);
        }
        s_put_entry(self, S_PICK(self, s_notes));
    }
}

/* Build row @p index in self->row. Every random draw happens whatever the
 * options, so row i is the same in every format and encoding. */
static void
s_row_build(s_gen_t *self, uint64_t index)
{
    self->rng = s_mix64(self->opts->seed ^ s_mix64(index + 1));
    self->row.len = 0;
    self->row.fields = 0;

    uint64_t counter =
        self->opts->sorted ? index : s_permute(index, self->contact_key);
    s_put_sfid(self, "0035g0000", counter);
    s_end_field(self);

    /* Contact i works for one of the first i/8 + 1 accounts: about one
     * account for 8 contacts, older accounts with more, and row i does
     * not depend on the number of rows. */
    uint64_t account = s_below(self, index / 8 + 1);
    const char *company = s_companies[account % S_COUNT(s_companies)];
    if (!s_percent(self, 3)) {
        s_put_sfid(self, "0015g0000", s_permute(account, self->account_key));
    }
    s_end_field(self);

    const s_country_t *country = s_pick_country(self);
    const char *first = s_pick(self, &country->first_names);
    const char *last = s_pick(self, &country->last_names);
    s_put_entry(self, first);
    s_end_field(self);
    s_put_entry(self, last);
    s_end_field(self);
    s_put_email(self, first, last, company, country);
    s_end_field(self);

    if (!s_percent(self, 8)) {
        s_put_pattern(self, country->phone);
    }
    s_end_field(self);
    if (s_percent(self, 60)) {
        s_put_pattern(self, country->mobile);
    }
    s_end_field(self);
    unsigned title = s_below(self, 100);
    if (title >= 90) {
        s_put_entry(self, S_PICK(self, s_titles_local));
    } else if (title >= 10) {
        s_put_entry(self, S_PICK(self, s_titles));
    }
    s_end_field(self);
    if (!s_percent(self, 15)) {
        s_put_entry(self, S_PICK(self, s_departments));
    }
    s_end_field(self);

    const s_city_t *city = &country->cities[s_below(self, country->city_count)];
    bool has_address = !s_percent(self, 6);
    if (has_address) {
        s_put_street(self, country);
    }
    s_end_field(self);
    if (has_address) {
        s_put_entry(self, city->name);
    }
    s_end_field(self);
    if (has_address) {
        s_put_pattern(self, city->postal);
    }
    s_end_field(self);
    s_put_entry(self, country->name);
    s_end_field(self);

    if (!s_percent(self, 20)) {
        s_put_entry(self, S_PICK(self, s_lead_sources));
    }
    s_end_field(self);
    s_put_description(self);
    s_end_field(self);
    s_put_timestamp(self, S_TIME_FIRST + (int64_t) s_below(
                                             self, S_TIME_END - S_TIME_FIRST));
    s_end_field(self);
    assert(self->row.fields == S_COLUMN_COUNT);
}

/* ---------------- output ---------------- */

static void
s_out_flush(s_out_t *self)
{
    if (self->len > 0 && !self->failed &&
        fwrite(self->buf, 1, self->len, self->file) != self->len) {
        fprintf(stderr, S_PROG ": %s: write failed: %s\n", self->name,
                strerror(errno));
        self->failed = true;
    }
    self->len = 0;
}

static void
s_out_byte(s_out_t *self, char c)
{
    if (self->len == sizeof(self->buf)) {
        s_out_flush(self);
    }
    self->buf[self->len++] = c;
}

static void
s_out_bytes(s_out_t *self, const char *bytes, size_t len)
{
    while (len > 0) {
        if (self->len == sizeof(self->buf)) {
            s_out_flush(self);
        }
        size_t room = sizeof(self->buf) - self->len;
        size_t chunk = len < room ? len : room;
        memcpy(self->buf + self->len, bytes, chunk);
        self->len += chunk;
        bytes += chunk;
        len -= chunk;
    }
}

static void
s_out_str(s_out_t *self, const char *str)
{
    s_out_bytes(self, str, strlen(str));
}

/* Copy @p len bytes of UTF-8 text in the output encoding, doubling quotes
 * if @p double_quotes. */
static void
s_out_text(s_gen_t *self, const char *text, size_t len, bool double_quotes)
{
    s_out_t *out = &self->out;
    const char *end = text + len;
    if (self->opts->encoding == S_ENCODING_UTF8) {
        while (double_quotes && text < end) {
            const char *quote = memchr(text, '"', (size_t) (end - text));
            if (!quote) {
                break;
            }
            s_out_bytes(out, text, (size_t) (quote + 1 - text));
            s_out_byte(out, '"');
            text = quote + 1;
        }
        s_out_bytes(out, text, (size_t) (end - text));
        return;
    }
    while (text < end) {
        if ((unsigned char) *text < 0x80) {
            if (*text == '"' && double_quotes) {
                s_out_byte(out, '"');
            }
            s_out_byte(out, *text++);
            continue;
        }
        uint32_t code = s_utf8_next(&text);
        int byte = s_cp1252_byte(code);
        if (byte >= 0) {
            s_out_byte(out, (char) byte);
        } else {
            const char *ascii = s_translit(code);
            assert(ascii);
            s_out_str(out, ascii);
        }
    }
}

static void
s_out_row_end(s_gen_t *self)
{
    if (self->opts->crlf) {
        s_out_byte(&self->out, '\r');
    }
    s_out_byte(&self->out, '\n');
}

static bool
s_csv_needs_quotes(const s_gen_t *self, const char *text, size_t len)
{
    if (self->opts->quote_all) {
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == self->opts->delimiter || c == '"' || c == '\n' || c == '\r') {
            return true;
        }
    }
    return false;
}

static void
s_csv_field(s_gen_t *self, const char *text, size_t len)
{
    if (s_csv_needs_quotes(self, text, len)) {
        s_out_byte(&self->out, '"');
        s_out_text(self, text, len, true);
        s_out_byte(&self->out, '"');
    } else {
        s_out_text(self, text, len, false);
    }
}

static void
s_csv_header(s_gen_t *self)
{
    for (size_t i = 0; i < S_COLUMN_COUNT; i++) {
        if (i > 0) {
            s_out_byte(&self->out, self->opts->delimiter);
        }
        s_csv_field(self, s_columns[i], strlen(s_columns[i]));
    }
    s_out_row_end(self);
}

static void
s_csv_row(s_gen_t *self)
{
    size_t start = 0;
    for (size_t i = 0; i < S_COLUMN_COUNT; i++) {
        if (i > 0) {
            s_out_byte(&self->out, self->opts->delimiter);
        }
        s_csv_field(self, self->row.text + start, self->row.end[i] - start);
        start = self->row.end[i];
    }
    s_out_row_end(self);
}

/* A JSON string: UTF-8 passes through, controls are escaped. */
static void
s_json_string(s_gen_t *self, const char *text, size_t len)
{
    s_out_t *out = &self->out;
    s_out_byte(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        if (c == '"' || c == '\\') {
            s_out_byte(out, '\\');
            s_out_byte(out, (char) c);
        } else if (c == '\n') {
            s_out_str(out, "\\n");
        } else if (c == '\r') {
            s_out_str(out, "\\r");
        } else if (c == '\t') {
            s_out_str(out, "\\t");
        } else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof(buf), "\\u%04x", c);
            s_out_str(out, buf);
        } else {
            s_out_byte(out, (char) c);
        }
    }
    s_out_byte(out, '"');
}

static void
s_jsonl_row(s_gen_t *self)
{
    size_t start = 0;
    s_out_byte(&self->out, '{');
    for (size_t i = 0; i < S_COLUMN_COUNT; i++) {
        if (i > 0) {
            s_out_byte(&self->out, ',');
        }
        s_json_string(self, s_columns[i], strlen(s_columns[i]));
        s_out_byte(&self->out, ':');
        s_json_string(self, self->row.text + start, self->row.end[i] - start);
        start = self->row.end[i];
    }
    s_out_byte(&self->out, '}');
    s_out_row_end(self);
}

/* ---------------- start-up checks ---------------- */

/* Abort unless @p entry can be written in windows-1252 and, if @p folded
 * (names, which make e-mail addresses), transliterated to ASCII: a
 * programming error in the word lists, caught on every run. */
static void
s_entry_check(const char *entry, bool folded)
{
    const char *bar = strchr(entry, S_FALLBACK);
    bool ok = true;
    if (bar) {
        ok = strchr(bar + 1, S_FALLBACK) == NULL && bar[1] != '\0';
        for (const char *p = bar + 1; *p && ok; p++) {
            ok = (unsigned char) *p < 0x80;
        }
    } else {
        const char *s = entry;
        while (*s && ok) {
            uint32_t code = s_utf8_next(&s);
            bool has_translit = s_translit(code) != NULL;
            ok = code < 0x80 || has_translit ||
                 (!folded && s_cp1252_byte(code) >= 0);
        }
    }
    if (!ok) {
        fprintf(stderr, S_PROG ": word list entry needs an ASCII form: %s\n",
                entry);
        abort();
    }
}

static void
s_pool_check(const char *const *items, size_t count, bool folded)
{
    for (size_t i = 0; i < count; i++) {
        s_entry_check(items[i], folded);
    }
}

static void
s_pools_check(void)
{
    for (size_t i = 1; i < S_COUNT(s_translits); i++) {
        assert(s_translits[i - 1].code < s_translits[i].code);
    }
    for (size_t i = 0; i < S_COUNT(s_countries); i++) {
        const s_country_t *c = &s_countries[i];
        s_entry_check(c->name, false);
        for (size_t j = 0; j < c->city_count; j++) {
            s_entry_check(c->cities[j].name, false);
        }
        s_pool_check(c->streets.items, c->streets.count, false);
        s_pool_check(c->first_names.items, c->first_names.count, true);
        s_pool_check(c->last_names.items, c->last_names.count, true);
    }
    s_pool_check(s_street_extra, S_COUNT(s_street_extra), false);
    s_pool_check(s_titles, S_COUNT(s_titles), false);
    s_pool_check(s_titles_local, S_COUNT(s_titles_local), false);
    s_pool_check(s_departments, S_COUNT(s_departments), false);
    s_pool_check(s_lead_sources, S_COUNT(s_lead_sources), false);
    s_pool_check(s_notes, S_COUNT(s_notes), false);
}

/* ---------------- command line ---------------- */

static void
s_usage(FILE *out)
{
    fputs(
        "Usage: " S_PROG " --rows N [--seed S] [--format csv|jsonl]\n"
        "                    [--delimiter C] [--encoding utf-8|windows-1252]\n"
        "                    [--quote minimal|all] [--order random|id]\n"
        "                    [--crlf] [--bom] [--output FILE]\n"
        "\n"
        "Write a realistic Salesforce-style Contacts export: a header and N\n"
        "rows of 16 columns (Id, AccountId, FirstName, LastName, Email,\n"
        "Phone, MobilePhone, Title, Department, MailingStreet, MailingCity,\n"
        "MailingPostalCode, MailingCountry, LeadSource, Description,\n"
        "LastModifiedDate), about 250 bytes a row. Valid 18-character ids,\n"
        "names in many languages and scripts, commas, quotes and line\n"
        "breaks inside fields, ISO 8601 timestamps. The output depends only\n"
        "on the arguments; memory use does not depend on N.\n"
        "\n"
        "Options:\n"
        "  -n, --rows N         data rows, 0 to 1000000000 (required)\n"
        "  -s, --seed S         64-bit seed (default 1)\n"
        "  -f, --format F       csv (default) or jsonl (values as strings)\n"
        "  -d, --delimiter C    CSV separator: one ASCII character or 'tab'\n"
        "                       (default ',')\n"
        "  -e, --encoding E     utf-8 (default) or windows-1252 (CSV only;\n"
        "                       other characters become ASCII)\n"
        "  -q, --quote Q        minimal (default): quote only fields that\n"
        "                       need it; all: quote every field\n"
        "  -O, --order O        random (default) or id: rows sorted by Id\n"
        "      --crlf           end rows with CRLF (default LF)\n"
        "      --bom            start UTF-8 output with a byte order mark\n"
        "  -o, --output FILE    write FILE instead of standard output\n"
        "  -h, --help           show this help and exit\n"
        "\n"
        "Exit status: 0 done, 1 write error, 64 bad command line.\n",
        out);
}

static int
s_usage_error(const char *message, const char *arg)
{
    fprintf(stderr, S_PROG ": %s%s%s%s\nTry '" S_PROG " --help'.\n", message,
            arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return S_EXIT_USAGE;
}

static bool
s_parse_u64(const char *text, uint64_t *value)
{
    if (*text < '0' || *text > '9') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *value = parsed;
    return true;
}

/* Fill @p opts from the command line. @return S_EXIT_OK, S_EXIT_USAGE
 * (reported), or -1 after --help. */
static int
s_parse(int argc, char **argv, s_opts_t *opts)
{
    enum { S_OPT_CRLF = 256, S_OPT_BOM };
    static const struct option options[] = {
        { "rows", required_argument, NULL, 'n' },
        { "seed", required_argument, NULL, 's' },
        { "format", required_argument, NULL, 'f' },
        { "delimiter", required_argument, NULL, 'd' },
        { "encoding", required_argument, NULL, 'e' },
        { "quote", required_argument, NULL, 'q' },
        { "order", required_argument, NULL, 'O' },
        { "crlf", no_argument, NULL, S_OPT_CRLF },
        { "bom", no_argument, NULL, S_OPT_BOM },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool have_rows = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":n:s:f:d:e:q:O:o:h", options,
                              NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (!s_parse_u64(optarg, &opts->rows) || opts->rows > S_ROWS_MAX) {
                return s_usage_error("--rows wants 0 to 1000000000, not",
                                     optarg);
            }
            have_rows = true;
            break;
        case 's':
            if (!s_parse_u64(optarg, &opts->seed)) {
                return s_usage_error("--seed wants an unsigned integer, not",
                                     optarg);
            }
            break;
        case 'f':
            if (strcmp(optarg, "csv") == 0) {
                opts->format = S_FORMAT_CSV;
            } else if (strcmp(optarg, "jsonl") == 0) {
                opts->format = S_FORMAT_JSONL;
            } else {
                return s_usage_error("--format wants csv or jsonl, not",
                                     optarg);
            }
            break;
        case 'd':
            if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0) {
                opts->delimiter = '\t';
            } else if (strlen(optarg) == 1 &&
                       (unsigned char) optarg[0] < 0x80 &&
                       (unsigned char) optarg[0] >= 0x20 && optarg[0] != '"') {
                opts->delimiter = optarg[0];
            } else {
                return s_usage_error("--delimiter wants one printable ASCII "
                                     "character other than '\"', or 'tab', "
                                     "not",
                                     optarg);
            }
            break;
        case 'e':
            if (strcmp(optarg, "utf-8") == 0 || strcmp(optarg, "utf8") == 0) {
                opts->encoding = S_ENCODING_UTF8;
            } else if (strcmp(optarg, "windows-1252") == 0 ||
                       strcmp(optarg, "cp1252") == 0) {
                opts->encoding = S_ENCODING_CP1252;
            } else {
                return s_usage_error("--encoding wants utf-8 or "
                                     "windows-1252, not",
                                     optarg);
            }
            break;
        case 'q':
            if (strcmp(optarg, "minimal") == 0) {
                opts->quote_all = false;
            } else if (strcmp(optarg, "all") == 0) {
                opts->quote_all = true;
            } else {
                return s_usage_error("--quote wants minimal or all, not",
                                     optarg);
            }
            break;
        case 'O':
            if (strcmp(optarg, "random") == 0) {
                opts->sorted = false;
            } else if (strcmp(optarg, "id") == 0) {
                opts->sorted = true;
            } else {
                return s_usage_error("--order wants random or id, not", optarg);
            }
            break;
        case S_OPT_CRLF:
            opts->crlf = true;
            break;
        case S_OPT_BOM:
            opts->bom = true;
            break;
        case 'o':
            opts->output = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return -1;
        case ':':
            return s_usage_error("missing value for", argv[optind - 1]);
        default:
            return s_usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return s_usage_error("unexpected argument", argv[optind]);
    }
    if (!have_rows) {
        return s_usage_error("--rows is required", NULL);
    }
    if (opts->format == S_FORMAT_JSONL && opts->encoding != S_ENCODING_UTF8) {
        return s_usage_error("JSON Lines is always UTF-8", NULL);
    }
    if (opts->bom && opts->encoding != S_ENCODING_UTF8) {
        return s_usage_error("--bom needs UTF-8 output", NULL);
    }
    return S_EXIT_OK;
}

/* ---------------- main ---------------- */

static int
s_generate(s_gen_t *self)
{
    const s_opts_t *opts = self->opts;
    if (opts->bom) {
        s_out_str(&self->out, "\xEF\xBB\xBF");
    }
    if (opts->format == S_FORMAT_CSV) {
        s_csv_header(self);
    }
    for (uint64_t index = 0; index < opts->rows && !self->out.failed; index++) {
        s_row_build(self, index);
        if (opts->format == S_FORMAT_CSV) {
            s_csv_row(self);
        } else {
            s_jsonl_row(self);
        }
    }
    s_out_flush(&self->out);
    if (!self->out.failed && fflush(self->out.file) != 0) {
        fprintf(stderr, S_PROG ": %s: write failed: %s\n", self->out.name,
                strerror(errno));
        self->out.failed = true;
    }
    return self->out.failed ? S_EXIT_FAIL : S_EXIT_OK;
}

int
main(int argc, char **argv)
{
    s_opts_t opts = { .seed = 1, .delimiter = ',' };
    int rc = s_parse(argc, argv, &opts);
    if (rc != S_EXIT_OK) {
        return rc < 0 ? S_EXIT_OK : rc;
    }
    s_pools_check();

    s_gen_t *gen = calloc(1, sizeof(*gen));
    if (!gen) {
        fputs(S_PROG ": out of memory\n", stderr);
        abort();
    }
    gen->opts = &opts;
    gen->contact_key = s_mix64(opts.seed ^ 0x436f6e74616374ULL);
    gen->account_key = s_mix64(opts.seed ^ 0x4163636f756e74ULL);
    for (size_t i = 0; i < S_COUNT(s_countries); i++) {
        gen->weight_total += s_countries[i].weight;
    }
    gen->out.file = stdout;
    gen->out.name = "standard output";
    if (opts.output) {
        gen->out.file = fopen(opts.output, "wb");
        gen->out.name = opts.output;
        if (!gen->out.file) {
            fprintf(stderr, S_PROG ": %s: %s\n", opts.output, strerror(errno));
            free(gen);
            return S_EXIT_FAIL;
        }
    }
    rc = s_generate(gen);
    if (opts.output && fclose(gen->out.file) != 0 && rc == S_EXIT_OK) {
        fprintf(stderr, S_PROG ": %s: %s\n", opts.output, strerror(errno));
        rc = S_EXIT_FAIL;
    }
    free(gen);
    return rc;
}
