# Debian's mirror as this machine's apt knows it, for the scripts that fetch from it
# (tests/standins/build.sh, tests/compose-v2.sh): no host name is written in the repo.
#   . tests/apt-mirror.sh
#   apt_mirror            -> the URI of the Debian archive, as apt has it
#   apt_mirror security   -> the URI of the Debian security archive
#   debian_sources trixie -> apt's sources (deb822) for a Debian root, from those two
# It reads apt's sources (/etc/apt/sources.list.d/*.sources in deb822 format, and the
# one-line sources.list and *.list): the first `deb` entry of this machine's release
# (VERSION_CODENAME) with the component main, or of <codename>-security. DEBIAN_MIRROR
# and DEBIAN_SECURITY_MIRROR, when set, win (e.g. on a machine that is not Debian).
# APT_ROOT (default /) is where /etc is read from: for the tests only.

apt_mirror() {  # [security]
    local override=${DEBIAN_MIRROR:-} codename suite found
    [ "${1:-}" = security ] && override=${DEBIAN_SECURITY_MIRROR:-}
    if [ -n "$override" ]; then
        echo "${override%/}"
        return
    fi
    codename=$(. "${APT_ROOT:-}/etc/os-release" && echo "${VERSION_CODENAME:-}")
    suite=$codename
    [ "${1:-}" = security ] && suite=$codename-security
    found=$(_apt_sources_entries | awk -v suite="$suite" '
        { split($3, suites, " "); split($4, comps, " "); hit = 0
          for (s in suites) if (suites[s] == suite) hit = 1
          for (c in comps) if (comps[c] == "main") hit++
          if ($1 ~ /(^| )deb( |$)/ && hit == 2) { split($2, uris, " "); print uris[1]; exit } }
    ' FS='\t')
    if [ -z "$found" ]; then
        echo "apt-mirror: no Debian mirror for '$suite' (main) in apt's sources" \
             "(/etc/apt/sources.list*); set DEBIAN_MIRROR${1:+ / DEBIAN_SECURITY_MIRROR}" >&2
        return 1
    fi
    echo "${found%/}"
}

_apt_sources_entries() {  # one line per entry: types TAB uris TAB suites TAB components
    local file
    for file in "${APT_ROOT:-}"/etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        awk '
            function flush() { if (t != "" && en != "no") print t "\t" u "\t" s "\t" c
                               t = u = s = c = ""; en = "" }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); next }
            { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
              if (key == "types") t = $0; else if (key == "uris") u = $0
              else if (key == "suites") s = $0; else if (key == "components") c = $0
              else if (key == "enabled") en = tolower($0) }
            END { flush() }
        ' "$file"
    done
    for file in "${APT_ROOT:-}"/etc/apt/sources.list "${APT_ROOT:-}"/etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        # deb [options] uri suite component...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$file" | awk '$1 == "deb" && NF >= 4 {
            comps = $4; for (i = 5; i <= NF; i++) comps = comps " " $i
            print "deb\t" $2 "\t" $3 "\t" comps }'
    done
}

debian_sources() {  # suite: apt's sources for a Debian root (deb822), from this mirror
    local mirror security
    mirror=$(apt_mirror) && security=$(apt_mirror security) || return 1
    printf '%s\n' "Types: deb" "URIs: $mirror" "Suites: $1 $1-updates" "Components: main" \
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" "" \
        "Types: deb" "URIs: $security" "Suites: $1-security" "Components: main" \
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
}
