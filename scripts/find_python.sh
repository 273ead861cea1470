#!/usr/bin/env bash
# Print a Python for the virtualenv: 3.12+ when the machine has one (Django 6 needs it),
# else any 3.11 (the code also runs on Django 5.2 LTS there).
set -u
candidates=(python3.12 python3.13 python3.14)
for root in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*; do
  [ -x "$root/bin/python" ] && candidates+=("$root/bin/python")
done
candidates+=(python3 python)
for minimum in 12 11; do
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c "import sys; sys.exit(0 if sys.version_info >= (3, $minimum) else 1)" 2>/dev/null; then
      command -v "$candidate"
      exit 0
    fi
  done
done
echo "Calma needs Python 3.11 or newer; none was found on PATH." >&2
exit 1
