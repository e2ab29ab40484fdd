# `make run` starts the whole system on embedded parts; `make test` runs the suite.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-overload bench-storm bench-idle soak histories lock clean

# Installed with requirements.lock as constraints: the exact versions CI tested.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[local,test,lint]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/complaints run

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python -m tests.bench.ack_throughput

# Starts the system as `make run` does (fresh data, free ports) and overloads its API.
COUNT ?= 5000
CONCURRENCY ?= 24
bench-overload: $(STAMP)
	$(BIN)/python -m tests.bench.overload_benchmark --count $(COUNT) --concurrency $(CONCURRENCY)

# N deadlines falling due within one minute: the lag from due time to alert email.
bench-storm: $(STAMP)
	$(BIN)/python -m tests.bench.deadline_storm --count $(or $(N),3000) --workers $(or $(WORKERS),1)

# N open complaints waiting on their timers: worker and dev server memory, SQLite size,
# sampled deadlines' lag (at 100,000 it runs for an hour or more).
bench-idle: $(STAMP)
	$(BIN)/python -m tests.bench.idle_scale --count $(or $(N),10000) --workers $(or $(WORKERS),1) $(if $(BY_POST),--by-post)

# Whole lifecycles under load while every part is killed or stopped on a timetable (docs/reliability.md).
RATE ?= 0.5
MINUTES ?= 8
soak: $(STAMP)
	$(BIN)/python -m tests.soak --rate $(RATE) --minutes $(MINUTES) --workers $(or $(WORKERS),2)

# Record a workflow history for the replay test: make histories SCENARIO=<name> [OUT=<file>]
histories: $(STAMP)
	$(BIN)/python -m tests.histories.record $(SCENARIO) $(if $(OUT),--out $(OUT))

# Resolve the dependencies afresh (after a change to pyproject.toml) into requirements.lock.
lock:
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --dry-run --ignore-installed --report $(VENV)/lock-report.json '.[local,test,lint]'
	$(BIN)/python deploy/lock.py < $(VENV)/lock-report.json > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) data
