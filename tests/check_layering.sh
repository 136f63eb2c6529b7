#!/bin/sh
# Fails if a lower layer includes from a higher one (DESIGN.md: crdt <-
# storage <- net <- node <- tools), or if lmdb.h is included outside storage/.
set -u
top=${1:-.}
cd "$top" || exit 2
bad=$( { grep -rnE '#include *"(storage|net|node|tools)/' crdt
         grep -rnE '#include *"(net|node|tools)/' storage
         grep -rnE '#include *"(node|tools)/' net
         grep -rnE '#include *"tools/' node
         grep -rnE '#include *<lmdb\.h>' crdt net node tools; } 2>/dev/null)
if [ -n "$bad" ]; then
    echo "layering violations:"
    echo "$bad"
    exit 1
fi
echo "layering ok: crdt <- storage <- net <- node <- tools"
