# bash completion for tcpshake(8)                           -*- shell-script -*-
# Kept in step with `tcpshake --help` by tests/docs.sh.

_tcpshake()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi

	case $prev in
	-M | --mode)
		COMPREPLY=($(compgen -W 'full syn fin null xmas ack window maimon flags' -- "$cur"))
		return
		;;
	--close)
		COMPREPLY=($(compgen -W 'fin rst' -- "$cur"))
		return
		;;
	--tls-min)
		COMPREPLY=($(compgen -W '1.2 1.3' -- "$cur"))
		return
		;;
	--starttls)
		COMPREPLY=($(compgen -W 'smtp imap pop3' -- "$cur"))
		return
		;;
	--alpn)
		COMPREPLY=($(compgen -W 'h2,http/1.1 http/1.1 h2' -- "$cur"))
		return
		;;
	--http-method)
		COMPREPLY=($(compgen -W 'HEAD GET' -- "$cur"))
		return
		;;
	--syn-options)
		COMPREPLY=($(compgen -W 'linux none mss= ws= sack ts' -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W 'text json csv nagios prometheus' -- "$cur"))
		return
		;;
	--refused | --mismatch)
		COMPREPLY=($(compgen -W 'ok warn crit' -- "$cur"))
		return
		;;
	--require)
		COMPREPLY=($(compgen -W 'all any' -- "$cur"))
		return
		;;
	--only)
		COMPREPLY=($(compgen -W 'open closed filtered unreachable unfiltered open\|filtered' -- "$cur"))
		return
		;;
	-o | --output | -f | --file | --exclude-file | --ca)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-I | --interface)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return
		;;
	-S | --source)
		COMPREPLY=($(compgen -W "$(ip -o addr show 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4}')" -- "$cur"))
		return
		;;
	-p | --port | -c | --count | -i | --interval | -W | --timeout | -s | --source-port | \
		--warning | --critical | --min-open | --exclude | --max-targets | --seed | --shard | \
		--rate | --retries | -B | --buffer-size | --serve | --allow | --max-probes | \
		--sni | --cert-warning | --cert-critical | --send | --expect | --expect-timeout | \
		--max-hops | --queries | --peer-mtu)
		return
		;;
	esac

	case $cur in
	--http=*)
		return
		;;
	-*)
		COMPREPLY=($(compgen -W '-p --port -c --count -i --interval -W --timeout
			-M --mode --close --no-middlebox --http --http= --http-method --syn-options
			-I --interface -B --buffer-size -S --source -s --source-port -4 --ipv4 -6 --ipv6
			-n --numeric -q --quiet -j --json --format -o --output --warning
			--critical --refused --min-open -f --file --exclude --exclude-file
			--max-targets --seed --no-shuffle --shard --rate --retries --only --flags
			--wait --deadline --expect-state -D --timestamp -C --vcount
			--all-addresses --require --serve --allow --max-probes
			--tls --sni --alpn --tls-min --ca --insecure --cert-warning --cert-critical
			--starttls --send --expect --expect-timeout --banner --mismatch
			--trace --trace-on-fail --max-hops --queries
			--pmtu --peer-mtu
			-v --verbose -V --version
			-h --help' -- "$cur"))
		return
		;;
	esac
	COMPREPLY=($(compgen -A hostname -- "$cur"))
} &&
	complete -F _tcpshake tcpshake
