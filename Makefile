# The README's two commands: `make demo` and `make test`. Each does all set-up a fresh machine needs.
.PHONY: demo test tools lint

PY := .venv/bin/python

tools:
	@bash tools/ensure-tools.sh

demo: tools
	@$(PY) -m demo $(DEMO_ARGS)

lint: tools
	@echo "==> ruff"
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@echo "==> mypy --strict"
	@.venv/bin/mypy .
	@echo "==> import-linter (layers point down)"
	@.venv/bin/lint-imports

test: lint
	@echo "==> pytest"
	@.venv/bin/pytest -n 2 --dist worksteal $(PYTEST_ARGS)
