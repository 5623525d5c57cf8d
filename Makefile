# The two commands a newcomer needs: `make demo` and `make test`. Everything installs itself
# (tools/bootstrap): venvs per ansible-core line under .build/, amazon.aws without Galaxy,
# Debian's docker-registry and skopeo.

LINE ?= 2.19
PY ?= 3.11
# The other maintained lines (ansible-core line / Python), run by `make matrix` and CI.
MATRIX ?= 2.20/3.12 2.21/3.12 2.21/3.13

.PHONY: demo test matrix bench bootstrap endpoint changelog clean

demo:
	tools/demo

test:
	tools/test $(LINE) $(PY)

matrix:
	@set -e; for entry in $(MATRIX); do tools/test $${entry%/*} $${entry#*/} --matrix; done

# Not a test: measures us against the peers and writes docs/benchmarks.md (about an hour).
bench:
	tools/bench $(BENCH_ARGS)

bootstrap:
	tools/bootstrap $(LINE) $(PY)

# The local ECR Public endpoint and its registry, until Ctrl-C.
endpoint: bootstrap
	PYTHONPATH=tests .build/venv-$(LINE)-py$(PY)/bin/python -m localecr serve

changelog: bootstrap
	.build/venv-$(LINE)-py$(PY)/bin/antsibull-changelog lint

clean:
	rm -rf .build tests/output
