# bash completion for ipbanset(8)                          -*- shell-script -*-
#
# Commands, global options anywhere on the line, each command's options, option
# values, files for -f/-c/-d, and live source names (and, for unban/query, live
# targets) read from `ipbanset list --json`. Works with or without the
# bash-completion package.

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
		-c | --config | -d | --db | -T | --table)
			((i + 1 < cword)) && args+=("$w" "${words[i + 1]}")
			((i++))
			;;
		--config=* | --db=* | --table=*)
			args+=("$w")
			;;
		esac
	done
	command ipbanset "${args[@]}" list --json 2>/dev/null </dev/null |
		command grep -o "\"$key\": *\"[^\"]*\"" 2>/dev/null |
		command sed 's/.*: *"\(.*\)"$/\1/' 2>/dev/null |
		command sort -u 2>/dev/null
}

_ipbanset_files()
{
	if declare -F _filedir >/dev/null 2>&1; then
		_filedir
	else
		local IFS=$'\n'
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

# Values never hold spaces or glob characters, so plain word splitting is safe.
_ipbanset_words()
{
	COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

_ipbanset()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -n =: || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		# Without bash-completion, "--format=js" arrives as "--format" "=" "js".
		if [[ $cur == = ]]; then
			prev=${COMP_WORDS[COMP_CWORD - 1]}
			cur=
		elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
			prev=${COMP_WORDS[COMP_CWORD - 2]}
		fi
	fi

	local commands='init ban unban sync flush query list status reconcile log gc teardown'
	local global_opts='-c --config -d --db -T --table -j --json -n --dry-run
		-q --quiet -v --verbose -h --help -V --version'
	local durations='60 10m 1h 1d 1w 2d permanent'

	# The command is the first word that is neither an option nor an option's value.
	local cmd= i w
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		-c | --config | -d | --db | -T | --table | -t | --timeout | -s | --source | \
			-r | --reason | -f | --hook | --priority | --verdict | --format | \
			--family | --since)
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
	-T | --table | -r | --reason | --priority)
		return
		;;
	-t | --timeout | --since)
		_ipbanset_words "$durations"
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
	init) cmd_opts='--hook --priority --verdict' ;;
	ban) cmd_opts='-t --timeout -s --source -r --reason --replace --force -f --file' ;;
	unban) cmd_opts='-s --source --all-sources -f --file' ;;
	sync) cmd_opts='-s --source -t --timeout -r --reason --force -f --file' ;;
	flush) cmd_opts='-s --source' ;;
	list) cmd_opts='-s --source --family' ;;
	status) cmd_opts='--format --verify' ;;
	log) cmd_opts='--since -s --source' ;;
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
		declare -F __ltrim_colon_completions >/dev/null 2>&1 &&
			__ltrim_colon_completions "$cur"
		;;
	esac
	return 0
}

complete -F _ipbanset ipbanset

# ex: filetype=sh noexpandtab
