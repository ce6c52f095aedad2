#!/usr/bin/env bash
# Run Apache Jena SHACL (Debian's libapache-jena-java, 4.5.0) on a data file.
#
#   bench/jena/shacl.sh [--shapes SHAPES] --data DATA [--repeat N] [--results TSV] [--report TTL]
#       Times validation inside the JVM with JenaShaclBench.java (compiled on first
#       use into $JENA_BENCH_CACHE) and prints one JSON object: the harness's fields
#       (validate_ms, load_data_ms, violations, conforms, ...; see the .java file)
#       plus wall_ms, the wall time of the whole java process.
#   bench/jena/shacl.sh --cli [--shapes SHAPES] --data DATA
#       Runs Jena's own command (shacl.shacl validate) and prints its Turtle report.
#   bench/jena/shacl.sh --classpath
#       Prints the class path (Jena jars plus the fix below).
#
# SHAPES defaults to shapes/imr.shapes.ttl of this repository. DATA may be
# N-Triples, Turtle, or any syntax Jena recognises from the file extension.
#
# Environment: JAVA_HOME (else java/javac on PATH; JDK 17 tested), JAVA_OPTS
# (extra JVM options), JENA_JAVA_DIR (default /usr/share/java), JENA_BENCH_CACHE
# (default /tmp/imrkg-jena-bench).
#
# Why the fix: Debian's jena-core.jar relocates the Xerces classes it embeds to
# the package `xerces.*`, but leaves their message bundles at the upstream
# shaded location org/apache/jena/ext/xerces/... The regular-expression parser
# (xerces.impl.xpath.regex.RegexParser) loads the bundle
# `xerces.impl.xpath.regex.message` in its constructor and throws
# "Installation Problem??? Couldn't load messages" when it is missing. Xerces
# builds the built-in XSD types at class initialisation, and the ones with a
# pattern facet (xsd:language, xsd:Name, xsd:NCName, xsd:NMTOKEN, ...) compile a
# regular expression; the failure is turned into InvalidDatatypeFacetException
# and then into "RuntimeException: internal error" in
# XSSimpleTypeDecl.applyFacets1, hence the ExceptionInInitializerError in
# SchemaDVFactory.<clinit> as soon as Jena initialises. Not a JDK or locale
# issue: the bundle is missing under every JDK. The fix copies the bundles
# from jena-core.jar itself to the relocated path (a directory put on the class
# path); no jar is modified.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
jar_dir="${JENA_JAVA_DIR:-/usr/share/java}"
cache="${JENA_BENCH_CACHE:-/tmp/imrkg-jena-bench}"
if [[ -n "${JAVA_HOME:-}" ]]; then
    java="$JAVA_HOME/bin/java"
    javac="$JAVA_HOME/bin/javac"
    jar_tool="$JAVA_HOME/bin/jar"
else
    java="java"
    javac="javac"
    jar_tool="jar"
fi
read -r -a java_opts <<<"${JAVA_OPTS:-}"

die() {
    echo "shacl.sh: $*" >&2
    exit 2
}

# The jars of libapache-jena-java and of the packages it depends on, by their
# unversioned Debian names. slf4j-nop is the one logging binding (a second
# binding on the class path makes slf4j complain).
jars=(
    jena-base jena-core jena-arq jena-iri jena-shacl jena-shex jena-cmds jena-rdfconnection
    jena-tdb jena-tdb2 jena-dboe-base jena-dboe-index jena-dboe-storage
    jena-dboe-trans-data jena-dboe-transaction
    commons-cli commons-codec commons-compress commons-csv commons-io commons-lang3
    dexx.collection gson guava httpclient httpcore jackson-core jackson-databind
    jackson-annotations jsonld-java jakarta.json-api protobuf thrift titanium-json-ld
    slf4j-api slf4j-nop
)

# The Xerces message bundles at the path the relocated classes look for.
xerces_fix() {
    local core="$jar_dir/jena-core.jar" stamp dir tmp
    [[ -f "$core" ]] || die "$core not found: install libapache-jena-java"
    stamp="$(stat -L -c '%s-%Y' "$core")"
    dir="$cache/xerces-bundles-$stamp"
    if [[ ! -f "$dir/xerces/impl/xpath/regex/message.properties" ]]; then
        mkdir -p "$cache"
        tmp="$(mktemp -d "$cache/tmp.XXXXXX")"
        (cd "$tmp" && "$jar_tool" xf "$core" org/apache/jena/ext/xerces/impl/msg \
            org/apache/jena/ext/xerces/impl/xpath/regex)
        mkdir -p "$tmp/out/xerces"
        cp -r "$tmp/org/apache/jena/ext/xerces/impl" "$tmp/out/xerces/"
        [[ -f "$tmp/out/xerces/impl/xpath/regex/message.properties" ]] ||
            die "no Xerces regex messages in $core"
        rm -rf "$dir"
        mv "$tmp/out" "$dir"
        rm -rf "$tmp"
    fi
    printf '%s' "$dir"
}

classpath() {
    local cp="" name
    for name in "${jars[@]}"; do
        if [[ -f "$jar_dir/$name.jar" ]]; then
            cp+="$jar_dir/$name.jar:"
        fi
    done
    [[ -f "$jar_dir/jena-shacl.jar" ]] || die "$jar_dir/jena-shacl.jar not found: install libapache-jena-java"
    printf '%s%s' "$cp" "$(xerces_fix)"
}

# Compile the harness once per (source, class path) into the cache.
harness() {
    local cp="$1" key out
    key="$( (cat "$here/JenaShaclBench.java"; printf '%s' "$cp"; "$javac" -version 2>&1) |
        sha256sum | cut -c1-16)"
    out="$cache/classes-$key"
    if [[ ! -f "$out/JenaShaclBench.class" ]]; then
        mkdir -p "$cache"
        local tmp
        tmp="$(mktemp -d "$cache/tmp.XXXXXX")"
        "$javac" -nowarn -cp "$cp" -d "$tmp" "$here/JenaShaclBench.java" >&2
        rm -rf "$out"
        mv "$tmp" "$out"
    fi
    printf '%s' "$out"
}

mode=bench
args=()
have_shapes=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --cli) mode=cli ;;
        --classpath) mode=classpath ;;
        --shapes) have_shapes=1; args+=("$1" "${2:?--shapes needs a file}"); shift ;;
        --data | --repeat | --results | --report) args+=("$1" "${2:?$1 needs a value}"); shift ;;
        -h | --help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (try --help)" ;;
    esac
    shift
done
if [[ $have_shapes -eq 0 ]]; then
    args+=(--shapes "$repo/shapes/imr.shapes.ttl")
fi

cp="$(classpath)"
case "$mode" in
    classpath)
        printf '%s\n' "$cp"
        ;;
    cli)
        cli_args=()
        for ((i = 0; i < ${#args[@]}; i += 2)); do
            case "${args[i]}" in
                --shapes | --data) cli_args+=("${args[i]}" "${args[i + 1]}") ;;
                *) die "--cli takes only --shapes and --data" ;;
            esac
        done
        exec "$java" "${java_opts[@]}" -cp "$cp" shacl.shacl validate "${cli_args[@]}"
        ;;
    bench)
        classes="$(harness "$cp")"
        start=$(date +%s%N)
        output="$("$java" "${java_opts[@]}" -cp "$classes:$cp" JenaShaclBench "${args[@]}")"
        end=$(date +%s%N)
        wall=$(((end - start) / 1000))
        printf '%s, "wall_ms": %d.%03d}\n' "${output%\}}" $((wall / 1000)) $((wall % 1000))
        ;;
esac
