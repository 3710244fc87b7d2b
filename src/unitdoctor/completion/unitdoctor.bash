# bash completion for unitdoctor (generated from its parser: python -m unitdoctor.cli.generate bash)
_unitdoctor_units() {
    # unit names from the catalog of the --root/--user/--global already on the line
    local i w scope=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --user|--global|--system) scope+=("$w") ;;
            --root=*) scope+=("$w") ;;
            --root) scope+=("--root=${COMP_WORDS[i+1]}") ;;
        esac
    done
    command unitdoctor states --no-pager --no-legend "${scope[@]}" 2>/dev/null | while read -r u _; do printf '%s\n' "$u"; done
}
_unitdoctor() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i w
    local commands='states why fix history undo scan units'
    local common='-h --help --version --root --user --global --system --json --offline --no-pager --no-host-tools --no-legend -q --quiet'
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in --root) ((i++)); continue ;; -*) continue ;; esac
        cmd=$w; break
    done
    case $prev in
        --root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --state) COMPREPLY=($(compgen -W 'enabled enabled-runtime linked linked-runtime alias masked masked-runtime static disabled indirect generated transient bad help' -- "$cur")); return ;;
        -t|--type) COMPREPLY=($(compgen -W 'service mount swap socket target device automount timer path slice scope stub loaded not-found bad-setting error merged masked help' -- "$cur")); return ;;
        --graph) COMPREPLY=($(compgen -W '' -- "$cur")); return ;;
        --target) COMPREPLY=($(compgen -W '' -- "$cur")); return ;;
        --prometheus) COMPREPLY=($(compgen -W '' -- "$cur")); return ;;
        --graph) COMPREPLY=($(compgen -W '' -- "$cur")); return ;;
    esac
    local opts=$common
    case $cmd in
        states) opts="$common --state -t --type" ;;
        why) opts="$common -v --verbose --graph" ;;
        fix) opts="$common --dry-run -y --yes --no-start --runtime-only --recover" ;;
        history) opts="$common " ;;
        undo) opts="$common --dry-run -y --yes" ;;
        scan) opts="$common --target --prometheus --graph" ;;
        units) opts="$common " ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts --help" -- "$cur")); return
    fi
    case $cmd in
        '') COMPREPLY=($(compgen -W "$commands" -- "$cur")
                $(compgen -W "$(_unitdoctor_units)" -- "$cur")) ;;
        states) COMPREPLY=($(compgen -W "$(_unitdoctor_units)" -- "$cur")) ;;
        why) COMPREPLY=($(compgen -W "$(_unitdoctor_units)" -- "$cur")) ;;
        fix) COMPREPLY=($(compgen -W "$(_unitdoctor_units)" -- "$cur")) ;;
        units) COMPREPLY=($(compgen -W 'unitdoctor-scan.service unitdoctor-scan.timer' -- "$cur")) ;;
    esac
}
complete -F _unitdoctor unitdoctor
