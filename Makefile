# Conveniences over tasks.py (which needs nothing but Python 3.11+).
.PHONY: setup demo test lint docs screenshots newest bench synth
setup demo test lint docs screenshots newest bench synth:
	python3 tasks.py $@
