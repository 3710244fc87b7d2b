# fish completion for unitdoctor (generated from its parser: python -m unitdoctor.cli.generate fish)
function __unitdoctor_units
    set -l scope
    set -l words (commandline -opc)
    for i in (seq (count $words))
        switch $words[$i]
            case --user --global --system '--root=*'
                set scope $scope $words[$i]
            case --root
                set -l j (math $i + 1)
                set scope $scope --root=$words[$j]
        end
    end
    command unitdoctor states --no-pager --no-legend $scope 2>/dev/null | string replace -r ' .*' ''
end
complete -c unitdoctor -f
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a '(__unitdoctor_units)'
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a states -d 'unit-file states, like list-unit-files / is-enabled'
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a why -d 'why a unit cannot start or be enabled (the default command)'
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a fix -d 'repair what why found: print the plan, ask, act (journaled, undoable)'
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a history -d 'the fixes recorded in the journal'
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a undo -d 'restore exactly what a fix changed (default: the latest fix)'
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a scan -d 'every mask, every unit that cannot start, and what the next boot does'
complete -c unitdoctor -n 'not __fish_seen_subcommand_from states why fix history undo scan units' -a units -d 'print the unitdoctor-scan.service and .timer that run scan periodically'
complete -c unitdoctor -s h -l help -d 'show this help message and exit'
complete -c unitdoctor -l version -d 'show program\'s version number and exit'
complete -c unitdoctor -l root -r -a '(__fish_complete_directories)' -d 'operate on the unit files below DIR'
complete -c unitdoctor -l user -d 'the calling user\'s units'
complete -c unitdoctor -l global -d 'units enabled for all users (/etc/systemd/user…)'
complete -c unitdoctor -l system -d 'system units (default)'
complete -c unitdoctor -l json -d 'print JSON (schemas: unitdoctor/schema/*.schema.json in the package)'
complete -c unitdoctor -l offline -d 'do not ask the running manager: no live facts'
complete -c unitdoctor -l no-pager -d 'do not pipe output into a pager'
complete -c unitdoctor -l no-host-tools -d 'run no program of the host'
complete -c unitdoctor -l no-legend -d 'no column headers and footer (states, history)'
complete -c unitdoctor -s q -l quiet -d 'print no results, only errors; the exit status says it'
complete -c unitdoctor -n '__fish_seen_subcommand_from states' -l state -r -d 'list only units in these unit-file states'
complete -c unitdoctor -n '__fish_seen_subcommand_from states' -s t -l type -r -d 'list only units of these types'
complete -c unitdoctor -n '__fish_seen_subcommand_from states' -a '(__unitdoctor_units)'
complete -c unitdoctor -n '__fish_seen_subcommand_from why' -s v -l verbose -d 'also list the evidence sources read, missing or skipped'
complete -c unitdoctor -n '__fish_seen_subcommand_from why' -l graph -r -d 'also write the dependency graph'
complete -c unitdoctor -n '__fish_seen_subcommand_from why' -a '(__unitdoctor_units)'
complete -c unitdoctor -n '__fish_seen_subcommand_from fix' -l dry-run -d 'print the plan and change nothing at all'
complete -c unitdoctor -n '__fish_seen_subcommand_from fix' -s y -l yes -d 'act without asking (required when stdin is not a terminal)'
complete -c unitdoctor -n '__fish_seen_subcommand_from fix' -l no-start -d 'live: do not start the units afterwards'
complete -c unitdoctor -n '__fish_seen_subcommand_from fix' -l runtime-only -d 'change only runtime layers'
complete -c unitdoctor -n '__fish_seen_subcommand_from fix' -l recover -d 'complete fixes that were interrupted'
complete -c unitdoctor -n '__fish_seen_subcommand_from fix' -a '(__unitdoctor_units)'
complete -c unitdoctor -n '__fish_seen_subcommand_from undo' -l dry-run -d 'print what undo would restore and change nothing'
complete -c unitdoctor -n '__fish_seen_subcommand_from undo' -s y -l yes -d 'act without asking (required when stdin is not a terminal)'
complete -c unitdoctor -n '__fish_seen_subcommand_from scan' -l target -r -d 'the boot\'s target (default: default.target)'
complete -c unitdoctor -n '__fish_seen_subcommand_from scan' -l prometheus -r -d 'also write the metrics in node_exporter\'s textfile format to FILE'
complete -c unitdoctor -n '__fish_seen_subcommand_from scan' -l graph -r -d 'also write the boot\'s dependency graph: Graphviz DOT'
complete -c unitdoctor -n '__fish_seen_subcommand_from units' -a 'unitdoctor-scan.service unitdoctor-scan.timer'
