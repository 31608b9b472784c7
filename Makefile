# Conveniences over tasks.py (which needs nothing but Python 3.11+).
.PHONY: setup demo test lint bench synth
setup demo test lint bench synth:
	python3 tasks.py $@
