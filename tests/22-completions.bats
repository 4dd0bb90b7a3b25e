#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Shell completions (completions/): bash driven through its completion function as
# readline would call it (with and without the bash-completion package), zsh through a
# real interactive zsh on a pseudo-terminal, fish through complete -C. Commands,
# options (checked against ipbanset --help, so a new option cannot be forgotten),
# option values, files, network namespaces, and live source names read from a
# journal the test filled, through the -d/-c given on the line.

load helper

COMP="$BATS_TEST_DIRNAME/../completions"

file_setup() {
	# a home of our own: fish and zsh may write history and caches there
	export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share"
	export XDG_CACHE_HOME="$WORK/home/.cache"
	mkdir -p -m 0700 "$HOME"
	# the completions call "ipbanset" from PATH: make that the binary under test
	mkdir -p "$WORK/bin"
	printf '#!/bin/sh\nexec %s "$@"\n' "$IPBANSET" >"$WORK/bin/ipbanset"
	chmod 0755 "$WORK/bin/ipbanset"
	write_bash_driver
	write_zsh_driver
}

# A journal with three sources and an IPv6 prefix.
fill_journal() {
	ibs_ok init
	ibs_ok ban -s f2b-sshd -t 1h "$ATK_ADDR" 2001:db8:2::/48
	ibs_ok ban -s spamhaus-drop -t 1d 203.0.113.0/24
	ibs_ok ban -t 1h 198.51.100.77
}

# words: the last run's output as one sorted line.
words() {
	tr ' ' '\n' <<<"$output" | grep . | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# assert_words EXPECTED: the last run's completions are exactly EXPECTED (any order).
assert_words() {
	local want got
	want=$(tr ' ' '\n' <<<"$1" | grep . | sort -u | tr '\n' ' ' | sed 's/ $//')
	got=$(words)
	[ "$got" = "$want" ] || fail "completions: '$got'; expected: '$want'"
}

# assert_has WORD...: each WORD is among the last run's completions.
assert_has() {
	local w
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$(tr ' ' '\n' <<<"$output")" ||
			fail "'$w' missing from completions: $(words)"
	done
}

assert_lacks() {
	local w
	for w in "$@"; do
		if grep -qxF -- "$w" <<<"$(tr ' ' '\n' <<<"$output")"; then
			fail "'$w' should not be offered: $(words)"
		fi
	done
}

# The long options ipbanset --help lists for COMMAND ("" for the global ones).
help_options() {
	# shellcheck disable=SC2086
	if [ -z "$1" ]; then
		$IPBANSET --help | sed -n '/^Global options/,/^$/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u
	else
		$IPBANSET --help | grep -E "^ +ipbanset $1( |$)" | grep -oE -- '--[a-z][a-z-]*' | sort -u
	fi
}

help_commands() {
	# shellcheck disable=SC2086
	$IPBANSET --help | sed -n '/^Commands:/,/^$/p' | grep -oE '^  [a-z]+' | tr -d ' '
}

# ---------------------------------------------------------------- bash

# The driver sources the completion file (after bash-completion when BC=1), splits
# the line the way readline does (blanks; '=' and ':' are words of their own, per
# COMP_WORDBREAKS), sets COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT, calls
# the function complete -p names, and prints COMPREPLY one per line.
write_bash_driver() {
	cat >"$WORK/bdrive.bash" <<-'EOF'
		if [ "$1" = 1 ]; then
			source /usr/share/bash-completion/bash_completion || exit 3
			declare -F _init_completion >/dev/null || exit 3
		fi
		source "$2" || exit 3
		fn=$(complete -p ipbanset | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
		[ -n "$fn" ] || exit 3
		COMP_LINE=$3
		COMP_POINT=${#COMP_LINE}
		COMP_WORDS=()
		w= l=$COMP_LINE
		while [ -n "$l" ]; do
			c=${l:0:1} l=${l:1}
			case $c in
			' ') [ -n "$w" ] && COMP_WORDS+=("$w"); w= ;;
			= | :)
				[ -n "$w" ] && COMP_WORDS+=("$w"); w=
				while [[ ${l:0:1} == [=:] ]]; do c+=${l:0:1} l=${l:1}; done
				COMP_WORDS+=("$c") ;;
			*) w+=$c ;;
			esac
		done
		if [ -n "$w" ]; then
			COMP_WORDS+=("$w")
		elif [[ -z $COMP_LINE || $COMP_LINE == *' ' ]]; then
			COMP_WORDS+=("")
		fi
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_TYPE=9 COMP_KEY=9
		"$fn" ipbanset "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf '%s\n' "${COMPREPLY[@]}"
	EOF
}

# bcomp BC LINE: bash's completions for LINE (BC=1: with bash-completion loaded).
bcomp() {
	PATH="$WORK/bin:$PATH" bash --norc --noprofile "$WORK/bdrive.bash" "$1" "$COMP/ipbanset.bash" "$2"
}

# bash_both LINE: run bcomp in both modes; they must agree; output as from run.
bash_both() {
	local a b
	run --separate-stderr bcomp 0 "$1"
	[ "$status" -eq 0 ] || fail "bash completion of '$1' (plain) exited $status: $stderr"
	[ -z "$stderr" ] || fail "bash completion of '$1' (plain) wrote to stderr: $stderr"
	a=$(words)
	run --separate-stderr bcomp 1 "$1"
	[ "$status" -eq 0 ] || fail "bash completion of '$1' (bash-completion) exited $status: $stderr"
	[ -z "$stderr" ] || fail "bash completion of '$1' (bash-completion) wrote to stderr: $stderr"
	b=$(words)
	[ "$a" = "$b" ] || fail "'$1': plain bash offers '$a', with bash-completion '$b'"
}

@test "bash: command names, and only those, first" {
	bash_both 'ipbanset '
	assert_words "$(help_commands | tr '\n' ' ')"
	assert_words 'init ban unban sync flush query list status reconcile log gc teardown recover watch'
	bash_both 'ipbanset s'
	assert_words 'status sync'
	# after global options with values, still the command
	bash_both 'ipbanset -d /tmp/x.db --table t -N ns1 rec'
	assert_words 'reconcile recover'
	# once there is a command, no second one
	bash_both 'ipbanset status '
	assert_words ''
}

@test "bash: global options, and every option --help lists for each command" {
	# what the checks below compare with: --help really lists the options
	[ "$(help_options '' | wc -l)" -ge 10 ] || fail "global options from --help: $(help_options '')"
	[ "$(help_options sync | tr '\n' ' ')" = '--force --jitter --max-removals ' ] ||
		fail "sync options from --help: $(help_options sync)"
	bash_both 'ipbanset --'
	assert_has $(help_options '')
	assert_has --netns --config --db --table --json --dry-run --quiet --verbose --help --version
	assert_lacks --timeout --hook --max-removals
	bash_both 'ipbanset -'
	assert_has -c -d -T -N -j -n -q -v -h -V
	local cmd
	for cmd in $(help_commands); do
		bash_both "ipbanset $cmd --"
		assert_has $(help_options "$cmd") $(help_options '')
	done
	bash_both 'ipbanset ban --'
	assert_has --timeout --jitter --source --reason --replace --force --file
	assert_lacks --max-removals --hook --all-sources
	bash_both 'ipbanset sync --'
	assert_has --jitter --max-removals --source --timeout --file
	assert_lacks --replace
	# command options before the command (getopt permutes), the command found after
	bash_both 'ipbanset -s f2b --jitter 1h --max-removals 5 sync --m'
	assert_words '--max-removals'
}

@test "bash: option values: hooks, verdicts, formats, families, durations" {
	bash_both 'ipbanset init --hook '
	assert_words 'input prerouting'
	bash_both 'ipbanset init --verdict '
	assert_words 'drop reject'
	bash_both 'ipbanset status --format '
	assert_words 'text json prometheus'
	bash_both 'ipbanset status --format=p'
	assert_words 'prometheus'
	bash_both 'ipbanset list --family '
	assert_words '4 6'
	bash_both 'ipbanset ban -t 1'
	assert_has 1h 1d 1w 10m
	assert_lacks permanent
	bash_both 'ipbanset sync --jitter '
	assert_has 1h
	# free text: nothing to offer
	bash_both 'ipbanset sync --max-removals '
	assert_words ''
}

@test "bash: --source completes the live sources of the journal named by -d/-c on the line" {
	fill_journal
	# nothing from the default journal: point the environment at an empty one
	export IPBANSET_DB="$WORK/none.db"
	local line="ipbanset -d $DB -c $CONF"
	# in the test's namespace, as root runs it there
	run --separate-stderr ip netns exec "$SRV" env PATH="$WORK/bin:$PATH" bash --norc --noprofile \
		"$WORK/bdrive.bash" 1 "$COMP/ipbanset.bash" "$line list --source "
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	assert_words 'f2b-sshd manual spamhaus-drop'
	bash_both "$line list --source "
	assert_words 'f2b-sshd manual spamhaus-drop'
	bash_both "$line ban -s f"
	assert_words 'f2b-sshd'
	bash_both "ipbanset --db=$DB --config=$CONF flush --source sp"
	assert_words 'spamhaus-drop'
	bash_both "ipbanset list --source "
	assert_words ''
	[ ! -e "$WORK/none.db" ] || fail "completion created a journal"
	# the config's journal, reached through -c alone (the environment would win)
	local conf2="$WORK/other.conf"
	printf 'db = %s\n' "$DB" >"$conf2"
	chmod 0600 "$conf2"
	unset IPBANSET_DB
	bash_both "ipbanset -c $conf2 log -s "
	assert_words 'f2b-sshd manual spamhaus-drop'
	# ~/ as the shell would expand it
	cp "$DB" "$HOME/j.db"
	bash_both "ipbanset -d ~/j.db list -s m"
	assert_words 'manual'
	# live targets for unban; an IPv6 prefix is trimmed to readline's word after ':'
	bash_both "$line unban 198"
	assert_words '198.51.100.2 198.51.100.77'
	bash_both "$line unban 2001:db8:"
	assert_words '2::/48'
}

@test "bash: live completion is silent and empty when the journal cannot be read" {
	local w
	for w in "-d $WORK/nodir/x.db" "-c $WORK/missing.conf" "-d $COMP/ipbanset.bash"; do
		bash_both "ipbanset $w list --source "
		assert_words ''
	done
	[ ! -e "$WORK/nodir" ]
	# no ipbanset on PATH at all
	local path=/usr/bin:/bin
	refute env PATH="$path" sh -c 'command -v ipbanset'
	for w in 0 1; do
		run --separate-stderr env PATH="$path" bash --norc --noprofile "$WORK/bdrive.bash" "$w" \
			"$COMP/ipbanset.bash" 'ipbanset unban '
		[ "$status" -eq 0 ]
		[ -z "$output$stderr" ] || fail "output: $output stderr: $stderr"
	done
}

@test "bash: -f, -c and -d complete files; -f also offers - for stdin" {
	mkdir -p "$WORK/lists"
	touch "$WORK/lists/drop.txt" "$WORK/lists/drop.netset" "$WORK/lists/other.conf"
	bash_both "ipbanset ban -f $WORK/lists/dr"
	assert_words "$WORK/lists/drop.txt $WORK/lists/drop.netset"
	bash_both "ipbanset sync -s x --file=$WORK/lists/dr"
	assert_words "$WORK/lists/drop.txt $WORK/lists/drop.netset"
	bash_both "ipbanset -f $WORK/lists/o"
	assert_words "$WORK/lists/other.conf"
	bash_both "ipbanset -c $WORK/lists/o"
	assert_words "$WORK/lists/other.conf"
	bash_both "ipbanset status --db $WORK/lists/dro"
	assert_words "$WORK/lists/drop.txt $WORK/lists/drop.netset"
	cd "$WORK/lists"
	bash_both "ipbanset unban -f "
	assert_has - drop.txt drop.netset other.conf
}

@test "bash: --netns / -N complete the names in ip netns list" {
	bash_both "ipbanset --netns ${SRV%-*}-"
	assert_words "$SRV"
	bash_both "ipbanset status -N ${ATK%-*}-"
	assert_words "$ATK"
}

# ---------------------------------------------------------------- zsh

# A real interactive zsh on a pseudo-terminal: compinit loads _ipbanset from fpath,
# a wrapper around compadd records every match the completion adds, and TAB is a
# widget that completes, then writes __END__.
write_zsh_driver() {
	cat >"$WORK/zdrive.zsh" <<-'EOF'
		zmodload zsh/zpty zsh/datetime || exit 3
		compdir=$1 out=$2 line=$3
		: >$out
		zpty z zsh -f -i || exit 3
		zpty -w z "PS1='%% '; fpath=(${(q)compdir} \$fpath); autoload -Uz compinit; compinit -u -D"
		zpty -w z "unsetopt auto_list auto_menu list_ambiguous; setopt no_beep"
		zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-[OAD]\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a __m; builtin compadd -O __m \"\$@\"; (( \$#__m )) && print -rl -- \$__m >>${(q)out}; builtin compadd \"\$@\" }"
		zpty -w z "ipb-test() { zle complete-word; print -r -- __END__ >>${(q)out}; BUFFER=; zle accept-line }; zle -N ipb-test; bindkey '^I' ipb-test"
		zpty -w z "print RE''ADY"
		zpty -r -m z buf '*READY*' || exit 3
		zpty -w -n z "$line"$'\t'
		t0=$EPOCHREALTIME
		until grep -qx __END__ $out 2>/dev/null; do
			(( EPOCHREALTIME - t0 < 20 )) || { print -u2 "zdrive: no completion after 20 s"; zpty -d z; exit 3 }
			sleep 0.05
		done
		zpty -d z
	EOF
}

# zcomp LINE: zsh's matches for LINE<TAB>, one per line.
zcomp() {
	local out="$WORK/zout"
	PATH="$WORK/bin:$PATH" timeout 40 zsh -f "$WORK/zdrive.zsh" "$COMP" "$out" "$1" || return
	grep -vx __END__ "$out" || true
}

zsh_run() {
	run --separate-stderr zcomp "$1"
	[ "$status" -eq 0 ] || fail "zsh completion of '$1' exited $status: $stderr"
}

@test "zsh: _ipbanset loads through compinit without a message and is bound to ipbanset" {
	run zsh -f -c "fpath=($COMP \$fpath); autoload -Uz compinit; compinit -u -D; print -r -- \$_comps[ipbanset]"
	[ "$status" -eq 0 ]
	[ "$output" = _ipbanset ] || fail "zsh said: $output"
	run zsh -f -c "fpath=($COMP \$fpath); autoload -Uz compinit; compinit -u -D; autoload +X _ipbanset"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || fail "zsh said: $output"
}

@test "zsh: commands, options from --help, values" {
	zsh_run 'ipbanset '
	assert_words "$(help_commands | tr '\n' ' ')"
	zsh_run 'ipbanset --'
	assert_has $(help_options '')
	assert_lacks --timeout
	local cmd
	for cmd in ban sync init status list log unban; do
		zsh_run "ipbanset $cmd --"
		assert_has $(help_options "$cmd") $(help_options '')
	done
	zsh_run 'ipbanset ban --'
	assert_lacks --max-removals --hook
	zsh_run 'ipbanset init --hook '
	assert_words 'input prerouting'
	zsh_run 'ipbanset init --verdict '
	assert_words 'drop reject'
	zsh_run 'ipbanset status --format '
	assert_words 'text json prometheus'
	zsh_run 'ipbanset status --format=j'
	assert_words 'json'
	zsh_run 'ipbanset list --family '
	assert_words '4 6'
}

@test "zsh: live sources through -d/-c, files for -f, namespaces for --netns" {
	fill_journal
	export IPBANSET_DB="$WORK/none.db"
	run --separate-stderr ip netns exec "$SRV" env PATH="$WORK/bin:$PATH" \
		timeout 40 zsh -f "$WORK/zdrive.zsh" "$COMP" "$WORK/zout" "ipbanset -d $DB -c $CONF list --source "
	[ "$status" -eq 0 ]
	output=$(grep -vx __END__ "$WORK/zout")
	assert_words 'f2b-sshd manual spamhaus-drop'
	zsh_run "ipbanset --db=$DB ban -s f"
	assert_words 'f2b-sshd'
	zsh_run 'ipbanset list --source '
	assert_words ''
	zsh_run "ipbanset -d $WORK/nodir/x.db list --source "
	assert_words ''
	[ -z "$stderr" ]
	zsh_run "ipbanset -d $DB unban 198"
	assert_words '198.51.100.2 198.51.100.77'

	mkdir -p "$WORK/lists"
	touch "$WORK/lists/drop.txt" "$WORK/lists/drop.netset" "$WORK/lists/other.conf"
	zsh_run "ipbanset sync -f $WORK/lists/dr"
	assert_words 'drop.txt drop.netset'
	zsh_run "ipbanset -c $WORK/lists/o"
	assert_words 'other.conf'

	zsh_run "ipbanset --netns ${SRV%-*}-"
	assert_words "$SRV"
}

# ---------------------------------------------------------------- fish

# fcomp LINE: fish's completions for LINE (the first column, without descriptions).
fcomp() {
	PATH="$WORK/bin:$PATH" fish --no-config -c "source \$argv[1]; complete -C \$argv[2]" \
		"$COMP/ipbanset.fish" "$1" | cut -f1
}

fish_run() {
	run --separate-stderr fcomp "$1"
	[ "$status" -eq 0 ] || fail "fish completion of '$1' exited $status: $stderr"
	[ -z "$stderr" ] || fail "fish completion of '$1' wrote to stderr: $stderr"
}

@test "fish: commands, options from --help, values" {
	fish_run 'ipbanset '
	assert_words "$(help_commands | tr '\n' ' ')"
	fish_run 'ipbanset --'
	assert_has $(help_options '')
	assert_lacks --timeout --jitter
	local cmd
	for cmd in $(help_commands); do
		fish_run "ipbanset $cmd --"
		assert_has $(help_options "$cmd") $(help_options '')
	done
	fish_run 'ipbanset ban --'
	assert_lacks --max-removals --hook
	fish_run 'ipbanset status --format '
	assert_words 'text json prometheus'
	fish_run 'ipbanset init --hook '
	assert_words 'input prerouting'
	fish_run 'ipbanset init --verdict '
	assert_words 'drop reject'
	fish_run 'ipbanset list --family '
	assert_words '4 6'
}

@test "fish: live sources through -d/-c, files for -f, namespaces for --netns, silent on errors" {
	fill_journal
	export IPBANSET_DB="$WORK/none.db"
	run --separate-stderr ip netns exec "$SRV" env PATH="$WORK/bin:$PATH" fish --no-config \
		-c "source \$argv[1]; complete -C \$argv[2]" "$COMP/ipbanset.fish" \
		"ipbanset -d $DB -c $CONF list --source "
	[ "$status" -eq 0 ]
	output=$(cut -f1 <<<"$output")
	assert_words 'f2b-sshd manual spamhaus-drop'
	fish_run "ipbanset --db=$DB sync -s sp"
	assert_words 'spamhaus-drop'
	fish_run 'ipbanset list --source '
	assert_words ''
	fish_run "ipbanset -c $WORK/missing.conf list --source "
	assert_words ''
	fish_run "ipbanset -d $DB unban 2001"
	assert_words '2001:db8:2::/48'

	mkdir -p "$WORK/lists"
	touch "$WORK/lists/drop.txt" "$WORK/lists/drop.netset"
	fish_run "ipbanset ban -f $WORK/lists/dr"
	assert_words "$WORK/lists/drop.txt $WORK/lists/drop.netset"

	fish_run "ipbanset --netns ${ATK%-*}-"
	assert_words "$ATK"

	# no ipbanset on PATH: nothing, silently
	refute env PATH=/usr/bin:/bin sh -c 'command -v ipbanset'
	run --separate-stderr env PATH=/usr/bin:/bin fish --no-config \
		-c "source \$argv[1]; complete -C \$argv[2]" "$COMP/ipbanset.fish" 'ipbanset list --source '
	[ "$status" -eq 0 ]
	[ -z "$output$stderr" ] || fail "output: $output stderr: $stderr"
}
