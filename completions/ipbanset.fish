# fish completion for ipbanset(8)

set -l commands init ban unban sync flush query list status reconcile log gc teardown recover watch

# Values of KEY ("source" or "target") in `ipbanset list --json`, passing on the
# options that select the configuration, the journal and the table. Failures
# (not root, no journal yet) give nothing.
function __ipbanset_live -a key
    set -l words (commandline -opc)
    set -l args
    set -l i 2
    while test $i -le (count $words)
        switch $words[$i]
            case -c --config -d --db -T --table
                set -l j (math $i + 1)
                if test $j -le (count $words)
                    set -a args $words[$i] (string replace -r '^~/' "$HOME/" -- $words[$j])
                end
                set i $j
            case '--config=*' '--db=*' '--table=*'
                set -a args (string replace -r '=~/' "=$HOME/" -- $words[$i])
        end
        set i (math $i + 1)
    end
    command -q ipbanset; or return
    command ipbanset $args list --json 2>/dev/null </dev/null \
        | string match -r -a -g '"'$key'": *"([^"]*)"' | sort -u
end

# Names of the network namespaces in /run/netns.
function __ipbanset_netns
    command -q ip; or return
    command ip netns list 2>/dev/null </dev/null | string replace -r '\s.*' ''
end

complete -c ipbanset -f

# Global options, before or after the command.
complete -c ipbanset -s c -l config -r -F -d 'Configuration file'
complete -c ipbanset -s d -l db -r -F -d 'Ban journal (SQLite database)'
complete -c ipbanset -s T -l table -x -d 'nftables table (family inet), or ipset set name prefix'
complete -c ipbanset -s B -l backend -x -a 'nftables ipset' -d 'Kernel backend'
complete -c ipbanset -s N -l netns -x -a '(__ipbanset_netns)' -d 'Work in network namespace NAME (/run/netns/NAME)'
complete -c ipbanset -s j -l json -d 'Print one JSON document on standard output'
complete -c ipbanset -s n -l dry-run -d 'Print what would change; change nothing'
complete -c ipbanset -s q -l quiet -d 'Print less on standard error'
complete -c ipbanset -s v -l verbose -d 'Print more on standard error'
complete -c ipbanset -s h -l help -d 'Print usage and exit'
complete -c ipbanset -s V -l version -d 'Print the version and exit'

# Commands.
set -l nocmd "not __fish_seen_subcommand_from $commands"
complete -c ipbanset -n $nocmd -a init -d 'Create the table, its chain, sets and rules'
complete -c ipbanset -n $nocmd -a ban -d 'Ban addresses or prefixes'
complete -c ipbanset -n $nocmd -a unban -d 'Withdraw bans on exactly these targets'
complete -c ipbanset -n $nocmd -a sync -d "Make a source's bans exactly the targets in a file"
complete -c ipbanset -n $nocmd -a flush -d 'Withdraw all bans, or all of one source'
complete -c ipbanset -n $nocmd -a query -d 'Tell whether a target is banned, and by which bans'
complete -c ipbanset -n $nocmd -a list -d "List the journal's live bans"
complete -c ipbanset -n $nocmd -a status -d 'Counts, expirations and kernel drift'
complete -c ipbanset -n $nocmd -a reconcile -d 'Make the kernel hold exactly what the journal says'
complete -c ipbanset -n $nocmd -a log -d 'History of ban and unban events'
complete -c ipbanset -n $nocmd -a gc -d 'Drop expired bans and old history from the journal'
complete -c ipbanset -n $nocmd -a teardown -d 'Delete the nftables table (the journal is kept)'
complete -c ipbanset -n $nocmd -a recover -d "Rebuild a damaged journal from the kernel's elements"
complete -c ipbanset -n $nocmd -a watch -d 'Daemon: restore bans that others remove, record expiries'

# init
complete -c ipbanset -n '__fish_seen_subcommand_from init' -l hook -x -a 'input prerouting' -d 'Netfilter hook'
complete -c ipbanset -n '__fish_seen_subcommand_from init' -l priority -x -d 'Chain priority (-1000..1000)'
complete -c ipbanset -n '__fish_seen_subcommand_from init' -l verdict -x -a 'drop reject' -d 'Verdict for banned sources'
complete -c ipbanset -n '__fish_seen_subcommand_from init' -l print-rules -d 'Print the iptables rules for the ipset backend'
complete -c ipbanset -n '__fish_seen_subcommand_from init' -l adopt -d 'Take over a table an older ipbanset made'

# ban, unban, sync, flush, list, log: options shared by several commands
set -l durations '60 10m 1h 1d 1w 2d permanent'
complete -c ipbanset -n '__fish_seen_subcommand_from ban sync' -s t -l timeout -x -a $durations -d 'How long the ban lasts'
complete -c ipbanset -n '__fish_seen_subcommand_from ban sync' -l jitter -x -a '60 10m 1h 6h 1d' -d 'Lengthen each timeout by a random 0..DUR'
complete -c ipbanset -n '__fish_seen_subcommand_from sync' -l max-removals -x -d 'Refuse to withdraw more than N bans or P% of them'
complete -c ipbanset -n '__fish_seen_subcommand_from ban unban sync flush list log' -s s -l source -x -a '(__ipbanset_live source)' -d 'Source that owns the bans'
complete -c ipbanset -n '__fish_seen_subcommand_from ban sync' -s r -l reason -x -d 'Reason kept with the ban'
complete -c ipbanset -n '__fish_seen_subcommand_from ban unban sync' -s f -l file -r -F -d 'Read targets from a file (- for standard input)'
complete -c ipbanset -n '__fish_seen_subcommand_from ban' -l replace -d "Set the expiry even when it shortens the source's ban"
complete -c ipbanset -n '__fish_seen_subcommand_from ban sync' -l force -d 'Ban even the SSH client address from $SSH_CONNECTION'
complete -c ipbanset -n '__fish_seen_subcommand_from unban' -l all-sources -d 'Withdraw the bans of every source'
complete -c ipbanset -n '__fish_seen_subcommand_from unban query' -a '(__ipbanset_live target)' -d 'Banned target'

# list
complete -c ipbanset -n '__fish_seen_subcommand_from list' -l family -x -a '4\tIPv4 6\tIPv6' -d 'Only one address family'

# status
complete -c ipbanset -n '__fish_seen_subcommand_from status' -l format -x -a 'text json prometheus' -d 'Output format'
complete -c ipbanset -n '__fish_seen_subcommand_from status' -l verify -d 'Compare every kernel element with the journal (slow)'

# recover, watch
complete -c ipbanset -n '__fish_seen_subcommand_from recover' -l force -d 'Replace even a healthy journal'
complete -c ipbanset -n '__fish_seen_subcommand_from watch' -l interval -x -a '10 30 1m 5m' -d 'How often expiries are recorded'

# log
complete -c ipbanset -n '__fish_seen_subcommand_from log' -l since -x -a $durations -d 'Only events in the last DURATION'
