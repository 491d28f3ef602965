# edreflect-edfi: two commands do everything on a fresh machine: `make build` and `make test`.
# Optional variables (environment or `make VAR=...`): DATA_PRODUCT, WAREHOUSE, EDFI_OUTPUT,
# EDFI_DISTRICT_ID, EDFI_SCHOOL_YEARS. See README.md.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 2
export DATA_PRODUCT WAREHOUSE EDFI_OUTPUT EDFI_DISTRICT_ID EDFI_SCHOOL_YEARS
export EDFI_COHORT_ID_MAX_LENGTH LANDING_DIR EDFI_API_URL EDFI_RESOURCES EDFI_ALLOW_DELETES
export EDFI_DELETE_THRESHOLD EDFI_VERIFY_SSL STRICT DISTRICT_TIMEZONE LOG_FILE ENGINE WAREHOUSE_SNAPSHOT SPARK_MASTER
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: build test test-engines venv spark-venv extract load sample dbt docs serve-docs generate lint bench clean lock lock-spark \
	send resync

# The installer, pinned: uv installs a lock file in seconds where pip took over a minute on a fresh machine.
UV_PIN := uv==0.13.8
# uv's install options for both environments: the packages' bytecode compiled once here, because with
# PYTHONDONTWRITEBYTECODE set Python would compile them again in every process
UV_INSTALL := pip install --quiet --compile-bytecode

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check '$(UV_PIN)'
	$(VENV)/bin/uv $(UV_INSTALL) --python $(PY) -r requirements.lock
	touch $(STAMP)

venv: $(STAMP)

## ENGINE=spark: dbt-spark and pyspark in an environment of their own (pyspark in .venv breaks Great
## Expectations' imports)
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed

$(SPARK_STAMP): requirements-spark.lock
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet --disable-pip-version-check '$(UV_PIN)'
	$(SPARK_VENV)/bin/uv $(UV_INSTALL) --python $(SPARK_VENV)/bin/python -r requirements-spark.lock
	touch $(SPARK_STAMP)

spark-venv: $(SPARK_STAMP)

## build: extract -> raw -> (validate) -> dbt -> (validate) -> Ed-Fi JSONL -> (validate); ENGINE=spark makes
## .venv-spark first
build: $(STAMP) $(if $(filter spark,$(ENGINE)),$(SPARK_STAMP))
	$(PY) -m pipeline build

## test: the whole test suite (starts its own OpenSSH server on 127.0.0.1); TEST_WORKERS processes, one
## test file each (files share module fixtures such as a built warehouse)
test: $(STAMP)
	@# the project's bytecode, once: with PYTHONDONTWRITEBYTECODE set (as on this machine) each of the suite's
	@# processes (every build, its GX worker) compiled it again, 0.1-0.15 s each; a stale file is recompiled
	$(PY) -m compileall -q extract pipeline expectations edfi sample_product
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

## test-engines: the engine comparisons, PostgreSQL's (also in make test) and Spark's (not: they take longer
## than CI has), one build at a time
test-engines: $(STAMP) $(SPARK_STAMP)
	$(PY) -m pytest -m 'spark or not spark' tests/test_engine_postgres.py tests/test_engine_spark.py

## extract: download the data product (SFTP or folder) and land it in raw, nothing else
extract: $(STAMP)
	$(PY) -m pipeline extract

## sample: (re)generate the embedded sample data product; SAMPLE_EDUCATORS=5000 scales it
SAMPLE_EDUCATORS ?= 60
sample: $(STAMP)
	$(PY) -m pipeline sample --educators $(SAMPLE_EDUCATORS)

## dbt: run `dbt build` alone on the current warehouse (holds the run lock, like build)
dbt: $(STAMP)
	$(PY) -m pipeline dbt build

## send: send the rendered Ed-Fi JSONL to the Ed-Fi API (EDFI_API_URL; EDFI_CLIENT_ID and
## EDFI_CLIENT_SECRET come from the environment only, never from this file)
send: $(STAMP)
	$(PY) -m pipeline send

## resync: reconcile the delivery state with what the Ed-Fi API holds (the next `make send` applies it)
resync: $(STAMP)
	$(PY) -m pipeline resync

## generate: regenerate the staging models, sources and YAML from seeds/edreflect_contract.csv
generate: $(STAMP)
	$(PY) -m pipeline.codegen

## docs: build the dbt docs site and the Great Expectations Data Docs, then serve them
docs: $(STAMP)
	$(PY) -m pipeline docs --serve

## lint: ruff on the Python, then sqlfluff (.sqlfluff: the house SQL style) on the dbt SQL, two processes
lint: $(STAMP)
	$(PY) -m ruff check extract sample_product edfi pipeline expectations tests bench
	$(VENV)/bin/sqlfluff lint models/ macros/ tests/dbt/ analyses/ --processes 2

## bench: benchmarks (not tests); results under bench/results/
bench: $(STAMP)
	$(PY) -m bench

lock:
	$(PYTHON) -m venv /tmp/edreflect-lock && /tmp/edreflect-lock/bin/pip install -q '.[dev]' && \
	/tmp/edreflect-lock/bin/pip freeze --exclude edreflect-edfi > requirements.lock

# dbt-core at the version requirements.lock pins, with dbt-spark and pyspark
lock-spark:
	$(PYTHON) -m venv /tmp/edreflect-lock-spark && /tmp/edreflect-lock-spark/bin/pip install -q \
	"$$(grep '^dbt-core==' requirements.lock)" 'dbt-spark[session]' pyspark && \
	{ sed -n '1,3p' requirements-spark.lock; /tmp/edreflect-lock-spark/bin/pip freeze; } > requirements-spark.lock.new && \
	mv requirements-spark.lock.new requirements-spark.lock

clean:
	rm -rf warehouse output landing target logs data/sample
