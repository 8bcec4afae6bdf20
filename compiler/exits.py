"""Exit codes of the `slo` command, a contract for scripts and CI: 0 success, 1 the input or a check
(or a target) said no, 2 wrong usage."""

OK, REFUSED, USAGE = 0, 1, 2
