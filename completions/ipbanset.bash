# bash completion for ipbanset(8)                          -*- shell-script -*-
#
# Commands, global options anywhere on the line, each command's options, option
# values, files for -f/-c/-d, network namespaces for --netns, and live source
# names (and, for unban/query, live targets) read from `ipbanset list --json`.
# Works with or without the bash-completion package.

# Print the values of KEY ("source" or "target") in `ipbanset list --json`,
# one per line, deduplicated. Global options that select the journal or the
# table are passed on. Any failure (not root, no journal) prints nothing.
_ipbanset_live()
{
	local key=$1 i w
	local -a args=()
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		-c | --config | -d | --db | -T | --table | -B | --backend)
			((i + 1 < cword)) && args+=("$w" "$(_ipbanset_dequote "${words[i + 1]}")")
			((i++))
			;;
		--config=* | --db=* | --table=* | --backend=*)
			args+=("${w%%=*}=$(_ipbanset_dequote "${w#*=}")")
			;;
		esac
	done
	command ipbanset "${args[@]}" list --json 2>/dev/null </dev/null |
		command grep -o "\"$key\": *\"[^\"]*\"" 2>/dev/null |
		command sed 's/.*: *"\(.*\)"$/\1/' 2>/dev/null |
		command sort -u 2>/dev/null
}

# A word of the line as the shell would pass it, for the plain cases (quotes,
# backslashes, a leading ~/); without eval, so nothing on the line is run.
_ipbanset_dequote()
{
	local w=$1
	case $w in
	\'*\') w=${w:1:${#w}-2} ;;
	\"*\") w=${w:1:${#w}-2} ;;
	*) w=${w//\\/} ;;
	esac
	# shellcheck disable=SC2088 # a literal "~/", which the shell has not expanded
	[[ $w == '~/'* ]] && w=$HOME/${w#'~/'}
	printf '%s' "$w"
}

# Names of the network namespaces in /run/netns, as `ip netns list` shows them.
_ipbanset_netns()
{
	command ip netns list 2>/dev/null </dev/null |
		command sed 's/[[:space:]].*//' 2>/dev/null
}

_ipbanset_files()
{
	if declare -F _filedir >/dev/null 2>&1; then
		_filedir
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

# Readline replaces only the part of an IPv6 target after its last ':' (a word
# break): drop what comes before it from the replies.
_ipbanset_ltrim_colon()
{
	if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
		__ltrim_colon_completions "$cur"
	elif [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		local pre=${cur%"${cur##*:}"} i
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$pre"}
		done
	fi
}

# Values never hold spaces or glob characters, so plain word splitting is safe.
_ipbanset_words()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_ipbanset()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -n =: || return
	else
		# Without bash-completion, readline splits "--db=x" and "2001:db8::1" at
		# '=' and ':'. Split the line at blanks only instead, as _init_completion
		# -n =: does; the replies are trimmed back to readline's word below.
		local line=${COMP_LINE:0:COMP_POINT}
		read -ra words <<<"$line"
		[[ -z $line || $line == *[[:blank:]] ]] && words+=("")
		cword=$((${#words[@]} - 1))
		cur=${words[cword]}
		prev=
		((cword > 0)) && prev=${words[cword - 1]}
	fi

	local commands='init ban unban sync flush query list status reconcile log gc teardown recover watch'
	local global_opts='-c --config -d --db -T --table -B --backend -N --netns -j --json
		-n --dry-run -q --quiet -v --verbose -h --help -V --version'
	local durations='60 10m 1h 1d 1w 2d permanent'

	# The command is the first word that is neither an option nor an option's value.
	local cmd='' i w
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		-c | --config | -d | --db | -T | --table | -B | --backend | -N | --netns | -t | --timeout | \
			-s | --source | -r | --reason | -f | --file | --hook | --priority | \
			--verdict | --format | --family | --since | --jitter | --max-removals | --interval)
			((i++))
			;;
		-*) ;;
		*)
			cmd=$w
			break
			;;
		esac
	done

	# --option=value
	if [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi

	case $prev in
	-c | --config | -d | --db)
		_ipbanset_files
		return
		;;
	-f | --file)
		_ipbanset_files
		[[ -z $cur || $cur == - ]] && COMPREPLY+=(-)
		return
		;;
	-T | --table | -r | --reason | --priority | --max-removals)
		return
		;;
	-N | --netns)
		_ipbanset_words "$(_ipbanset_netns)"
		return
		;;
	-t | --timeout | --since)
		_ipbanset_words "$durations"
		return
		;;
	--interval)
		_ipbanset_words '10 30 1m 5m'
		return
		;;
	--jitter)
		_ipbanset_words '60 10m 1h 6h 1d'
		return
		;;
	-s | --source)
		_ipbanset_words "$(_ipbanset_live source)"
		return
		;;
	--hook)
		_ipbanset_words 'input prerouting'
		return
		;;
	--verdict)
		_ipbanset_words 'drop reject'
		return
		;;
	-B | --backend)
		_ipbanset_words 'nftables ipset'
		return
		;;
	--format)
		_ipbanset_words 'text json prometheus'
		return
		;;
	--family)
		_ipbanset_words '4 6'
		return
		;;
	esac

	local cmd_opts=
	case $cmd in
	init) cmd_opts='--hook --priority --verdict --print-rules --adopt' ;;
	ban) cmd_opts='-t --timeout --jitter -s --source -r --reason --replace --force -f --file' ;;
	unban) cmd_opts='-s --source --all-sources -f --file' ;;
	sync) cmd_opts='-s --source -t --timeout --jitter --max-removals -r --reason --force -f --file' ;;
	flush) cmd_opts='-s --source' ;;
	list) cmd_opts='-s --source --family' ;;
	status) cmd_opts='--format --verify' ;;
	log) cmd_opts='--since -s --source' ;;
	recover) cmd_opts='--force' ;;
	watch) cmd_opts='--interval' ;;
	esac

	if [[ $cur == -* ]]; then
		_ipbanset_words "$global_opts $cmd_opts"
		return
	fi

	case $cmd in
	'')
		_ipbanset_words "$commands"
		;;
	unban | query)
		_ipbanset_words "$(_ipbanset_live target)"
		_ipbanset_ltrim_colon
		;;
	esac
	return 0
}

complete -F _ipbanset ipbanset

# ex: filetype=sh noexpandtab
