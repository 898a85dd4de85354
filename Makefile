# msgraph.security developer entry points. Quick start: `make demo`, `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
BUILD := $(ROOT)/build
VENV := $(ROOT)/.venv
LATEST := $(VENV)/latest
DEMO := $(VENV)/demo
FLOOR := $(VENV)/floor
EDA := $(VENV)/eda
CONTRACT := $(VENV)/contract
MINIMUMS := $(VENV)/minimums
# The ansible-core releases between the floor (2.16) and the newest (2.21, .venv/latest): one venv each, named by
# its core (tests/README.md says why each is in the matrix).
MIDDLE_CORES := 2.19 2.20
# make test's lanes group the legs by Python: 2.19 runs on Python 3.11 like the floor, 2.20 on 3.12 like 2.21.
OLDER_MIDDLE_CORE := $(word 1,$(MIDDLE_CORES))
NEWER_MIDDLE_CORE := $(word 2,$(MIDDLE_CORES))
RESULTS := $(BUILD)/results
COLLECTIONS := $(BUILD)/collections
LATEST_PYTHON = $(shell tests/utils/find_python.sh latest)
FLOOR_PYTHON = $(shell tests/utils/find_python.sh floor)
PIP_QUIET := --quiet --disable-pip-version-check
STAGE := RESULTS_DIR=$(RESULTS) tests/utils/stage.sh
PYTEST_ENV := PYTHONPATH=$(COLLECTIONS):$(ROOT)/tests/emulator
PYTEST_ARGS := -p no:cacheprovider -q -rfE

.PHONY: help venv collection demo emulator test sanity sanity-latest sanity-floor units units-latest units-floor \
        emulator-tests integration integration-floor eda-tests contract minimums minimums-units minimums-smoke lint types \
        changelog release-notes docs-samples bench bench-smoke clean

help:
	@echo "The two commands:"
	@echo "  make demo              set everything up, start the Graph emulator and play a runbook against it"
	@echo "  make test              every stage below, then one line: N passed, N failed, N skipped"
	@echo "Stages of make test (tests/README.md says what each proves):"
	@echo "Each supported ansible-core gets a sanity, unit and integration leg: floor 2.16, $(MIDDLE_CORES), latest 2.21."
	@echo "  make sanity            ansible-test sanity on the floor, middle and newest cores (sanity-floor, sanity-2.19, sanity-2.20, sanity-latest)"
	@echo "  make lint              ansible-lint --profile production"
	@echo "  make types             mypy over plugins/ and the event source (mypy.ini)"
	@echo "  make units             unit tests on every core (units-floor, units-2.19, units-2.20, units-latest)"
	@echo "  make emulator-tests    the Graph/Entra emulator's own tests"
	@echo "  make integration       real ansible-playbook runs against the emulator on 2.21; the smoke subset on the others"
	@echo "                         (integration-2.19, integration-2.20; make test plays 2.16's in minimums-smoke,"
	@echo "                         make integration-floor plays it on .venv/floor)"
	@echo "  make eda-tests         the event source and example rulebook under ansible-rulebook"
	@echo "  make contract          Microsoft's payloads, emulator answers and request bodies through Microsoft's SDK models"
	@echo "  make minimums          units and smoke tests on ansible-core 2.16.0 with every dependency at its declared floor"
	@echo "                         (minimums-units, minimums-smoke: the 2.16 smoke leg of make test)"
	@echo "  make bench-smoke       the benchmark harness end to end at tiny sizes"
	@echo "Reports and tools:"
	@echo "  make bench             benchmarks against the emulator, writes docs/performance.md"
	@echo "  make reliability-report  the reliability suite, writes docs/reliability.md"
	@echo "  make changelog         antsibull-changelog lint"
	@echo "  make release-notes     fold changelogs/fragments/ into galaxy.yml's release (1.0.0) and render CHANGELOG.rst"
	@echo "  make docs-samples      rewrite the guides' sample outputs from a real run against the emulator"
	@echo "  make emulator          start the Graph/Entra emulator in the foreground (make demo's small venv; info file:"
	@echo "                         build/emulator/info.json)"
	@echo "  make venv collection   build the virtual environments / link build/collections to this checkout"
	@echo "  make clean             remove build/ and tests/output/"

# --- environments -------------------------------------------------------------------------
venv: $(LATEST)/.stamp $(FLOOR)/.stamp

$(LATEST)/.stamp: requirements.txt tests/requirements.txt tests/requirements-tools.txt
	rm -rf $(LATEST)
	$(LATEST_PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	$(LATEST)/bin/python -m pip install $(PIP_QUIET) ansible-core -r requirements.txt -r tests/requirements.txt -r tests/requirements-tools.txt
	touch $@

$(FLOOR)/.stamp: requirements.txt tests/requirements.txt
	rm -rf $(FLOOR)
	$(FLOOR_PYTHON) -m venv $(FLOOR)
	$(FLOOR)/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	$(FLOOR)/bin/python -m pip install $(PIP_QUIET) 'ansible-core>=2.16,<2.17' -r requirements.txt -r tests/requirements.txt
	touch $@

# A middle core of the matrix: that ansible-core release line exactly, on the Python find_python.sh picks for it.
$(VENV)/core-%/.stamp: requirements.txt tests/requirements.txt
	rm -rf $(VENV)/core-$*
	$$(tests/utils/find_python.sh core-$*) -m venv $(VENV)/core-$*
	$(VENV)/core-$*/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	$(VENV)/core-$*/bin/python -m pip install $(PIP_QUIET) 'ansible-core==$*.*' -r requirements.txt -r tests/requirements.txt
	touch $@

# make demo's venv: only what the demo runs (ansible-core, the collection's requirements, the emulator's), so a
# first-time user does not wait for the lint, docs and packaging tools of make test.
$(DEMO)/.stamp: requirements.txt tests/emulator/requirements.txt
	rm -rf $(DEMO)
	$(LATEST_PYTHON) -m venv $(DEMO)
	$(DEMO)/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	$(DEMO)/bin/python -m pip install $(PIP_QUIET) ansible-core -r requirements.txt -r tests/emulator/requirements.txt
	touch $@

# The contract stage's own venv: Microsoft's generated beta and v1.0 SDKs (msgraph-beta-sdk, msgraph-sdk, side by side) are
# heavy and test-only (never in make demo).
$(CONTRACT)/.stamp: tests/contract/requirements.txt requirements.txt tests/emulator/requirements.txt
	rm -rf $(CONTRACT)
	$(LATEST_PYTHON) -m venv $(CONTRACT)
	$(CONTRACT)/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	$(CONTRACT)/bin/python -m pip install $(PIP_QUIET) -r tests/contract/requirements.txt
	touch $@
# The lowest declared versions, exactly (requirements.txt floors, ansible-core of meta/runtime.yml), on the oldest
# Python the README claims: tests/utils/minimums.sh builds it and checks every pin.
$(MINIMUMS)/.stamp: requirements.txt tests/requirements.txt meta/runtime.yml tests/utils/minimums.sh
	tests/utils/minimums.sh $(MINIMUMS)

# The collection as Ansible and pytest import it: build/collections/ansible_collections/msgraph/security -> repo.
# Left alone when it is already right: the lanes of make test run it while other lanes import through the link.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/msgraph
	@[ "$$(readlink $(COLLECTIONS)/ansible_collections/msgraph/security)" = "$(ROOT)" ] || \
	  ln -sfn $(ROOT) $(COLLECTIONS)/ansible_collections/msgraph/security

# ansible-rulebook and its dependencies (drools, jpy, aiohttp...) live apart from the other environments.
$(EDA)/.stamp: requirements.txt tests/requirements-eda.txt
	rm -rf $(EDA)
	$(LATEST_PYTHON) -m venv $(EDA)
	$(EDA)/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	cd tests && $(EDA)/bin/python -m pip install $(PIP_QUIET) -r requirements-eda.txt
	touch $@

# --- the two commands ------------------------------------------------------------------------
demo: $(DEMO)/.stamp collection
	$(PYTEST_ENV) $(DEMO)/bin/python tests/utils/demo.py

test: collection
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	@# The four ansible-core venvs are built side by side: pip mostly waits on the package index.
	@$(MAKE) -j 4 --no-print-directory venv $(MIDDLE_CORES:%=$(VENV)/core-%/.stamp)
	@# Four lanes on two cores. The whole integration suite on 2.21, the longest stage, runs at normal priority;
	@# it also waits (the emulator's faults, Retry-After pauses), and three lanes at nice 10 use what it leaves, so
	@# that one lane's waits (pip downloads, above all) are another's CPU time:
	@# - the smoke lane builds the contract and minimums venvs, runs those stages, then the smoke legs of the middle
	@#   cores (one integration run beside the 2.21 suite at a time);
	@# - the Python 3.11 lane: sanity and units on the floor (2.16) and 2.19, and EDA;
	@# - the Python 3.12 lane: sanity and units on 2.20 and 2.21, lint, types, the emulator's tests, bench smoke.
	@# Sanity legs of one Python share a lane: ansible-test caches its venvs by test and Python
	@# (~/.ansible/test/venv/<test>/<python>/), and two lanes must not build one at once.
	@# Each lane's output is printed when all have ended, the integration suite's last.
	@$(STAGE) integration-latest $(MAKE) --no-print-directory integration > $(RESULTS)/integration-latest.log 2>&1 & \
	integration=$$!; \
	( renice -n 10 -p $$BASHPID > /dev/null 2>&1; \
	  $(STAGE) contract $(MAKE) --no-print-directory contract; \
	  $(STAGE) minimums-units $(MAKE) --no-print-directory minimums-units; \
	  $(STAGE) minimums-smoke $(MAKE) --no-print-directory minimums-smoke; \
	  for core in $(MIDDLE_CORES); do $(STAGE) integration-$$core $(MAKE) --no-print-directory integration-$$core; done \
	) > $(RESULTS)/smoke-lane.log 2>&1 & \
	smoke=$$!; \
	( renice -n 10 -p $$BASHPID > /dev/null 2>&1; \
	  $(STAGE) sanity-floor $(MAKE) --no-print-directory sanity-floor; \
	  $(STAGE) sanity-$(OLDER_MIDDLE_CORE) $(MAKE) --no-print-directory sanity-$(OLDER_MIDDLE_CORE); \
	  $(STAGE) units-floor $(MAKE) --no-print-directory units-floor; \
	  $(STAGE) units-$(OLDER_MIDDLE_CORE) $(MAKE) --no-print-directory units-$(OLDER_MIDDLE_CORE); \
	  $(STAGE) eda-tests $(MAKE) --no-print-directory eda-tests \
	) > $(RESULTS)/python-3.11-lane.log 2>&1 & \
	older=$$!; \
	( renice -n 10 -p $$BASHPID > /dev/null 2>&1; \
	  $(STAGE) sanity-$(NEWER_MIDDLE_CORE) $(MAKE) --no-print-directory sanity-$(NEWER_MIDDLE_CORE); \
	  $(STAGE) sanity-latest $(MAKE) --no-print-directory sanity-latest; \
	  $(STAGE) lint $(MAKE) --no-print-directory lint; \
	  $(STAGE) types $(MAKE) --no-print-directory types; \
	  $(STAGE) units-$(NEWER_MIDDLE_CORE) $(MAKE) --no-print-directory units-$(NEWER_MIDDLE_CORE); \
	  $(STAGE) units-latest $(MAKE) --no-print-directory units-latest; \
	  $(STAGE) emulator-tests $(MAKE) --no-print-directory emulator-tests; \
	  $(STAGE) bench-smoke $(MAKE) --no-print-directory bench-smoke \
	) > $(RESULTS)/python-3.12-lane.log 2>&1 & \
	newer=$$!; \
	wait $$older; cat $(RESULTS)/python-3.11-lane.log; \
	wait $$newer; cat $(RESULTS)/python-3.12-lane.log; \
	wait $$smoke; cat $(RESULTS)/smoke-lane.log; \
	wait $$integration; cat $(RESULTS)/integration-latest.log
	@$(LATEST)/bin/python tests/utils/summary.py $(RESULTS)

# --- individual stages -----------------------------------------------------------------------
sanity: sanity-floor $(MIDDLE_CORES:%=sanity-%) sanity-latest
sanity-latest: $(LATEST)/.stamp
	tests/utils/sanity.sh $(LATEST) latest
sanity-floor: $(FLOOR)/.stamp
	tests/utils/sanity.sh $(FLOOR) floor
# The middle cores (MIDDLE_CORES): make sanity-2.19, units-2.19, integration-2.19 (the smoke subset), and 2.20.
sanity-2.%: $(VENV)/core-2.%/.stamp
	tests/utils/sanity.sh $(VENV)/core-2.$* core-2.$*

units: units-floor $(MIDDLE_CORES:%=units-%) units-latest
units-latest: $(LATEST)/.stamp collection
	$(PYTEST_ENV) $(LATEST)/bin/python -m pytest $(PYTEST_ARGS) --junitxml=$(RESULTS)/units-latest.xml tests/unit
units-floor: $(FLOOR)/.stamp collection
	$(PYTEST_ENV) $(FLOOR)/bin/python -m pytest $(PYTEST_ARGS) --junitxml=$(RESULTS)/units-floor.xml tests/unit
units-2.%: $(VENV)/core-2.%/.stamp collection
	$(PYTEST_ENV) $(VENV)/core-2.$*/bin/python -m pytest $(PYTEST_ARGS) --junitxml=$(RESULTS)/units-2.$*.xml tests/unit

emulator-tests: $(LATEST)/.stamp
	$(PYTEST_ENV) $(LATEST)/bin/python -m pytest $(PYTEST_ARGS) --junitxml=$(RESULTS)/emulator-tests.xml tests/emulator/tests

integration: $(LATEST)/.stamp collection
	$(PYTEST_ENV) $(LATEST)/bin/python -m pytest $(PYTEST_ARGS) -n 2 --junitxml=$(RESULTS)/integration-latest.xml tests/integration
# The floor leg plays the smoke subset: every module once, real tokens, over HTTPS.
integration-floor: $(FLOOR)/.stamp collection
	$(PYTEST_ENV) $(FLOOR)/bin/python -m pytest $(PYTEST_ARGS) -n 2 -m smoke --junitxml=$(RESULTS)/integration-floor.xml tests/integration
integration-2.%: $(VENV)/core-2.%/.stamp collection
	$(PYTEST_ENV) $(VENV)/core-2.$*/bin/python -m pytest $(PYTEST_ARGS) -n 2 -m smoke --junitxml=$(RESULTS)/integration-2.$*.xml \
		tests/integration

# The incidents event source against the emulator, and the example rulebook under the real ansible-rulebook.
eda-tests: $(LATEST)/.stamp $(EDA)/.stamp collection
	$(PYTEST_ENV) EDA_VENV=$(EDA) $(LATEST)/bin/python -m pytest $(PYTEST_ARGS) -s --junitxml=$(RESULTS)/eda-tests.xml tests/eda

# Microsoft's example payloads, the emulator's responses and the collection's request bodies through the SDK's
# models (docs/service-contract.md).
contract: $(CONTRACT)/.stamp collection
	$(PYTEST_ENV):$(ROOT)/tests/contract $(CONTRACT)/bin/python -m pytest $(PYTEST_ARGS) --junitxml=$(RESULTS)/contract.xml tests/contract
# Units and the smoke subset with every dependency at its declared floor.
minimums: minimums-units minimums-smoke
minimums-units: $(MINIMUMS)/.stamp collection
	$(PYTEST_ENV) $(MINIMUMS)/bin/python -m pytest $(PYTEST_ARGS) -n 2 --junitxml=$(RESULTS)/minimums-units.xml tests/unit
minimums-smoke: $(MINIMUMS)/.stamp collection
	$(PYTEST_ENV) $(MINIMUMS)/bin/python -m pytest $(PYTEST_ARGS) -n 2 -m smoke --junitxml=$(RESULTS)/minimums-smoke.xml \
		tests/integration

lint: $(LATEST)/.stamp collection
	cd $(COLLECTIONS)/ansible_collections/msgraph/security && PATH=$(LATEST)/bin:$$PATH $(LATEST)/bin/ansible-lint --profile production

# mypy over plugins/ and extensions/eda/plugins/, imported by their full names from build/collections (mypy.ini).
types: $(LATEST)/.stamp collection
	$(LATEST)/bin/mypy --config-file mypy.ini

changelog: $(LATEST)/.stamp
	$(LATEST)/bin/antsibull-changelog lint

# Fold every fragment of changelogs/fragments/ into the release of galaxy.yml's version (1.0.0; created on the first
# run, extended by later ones) and render CHANGELOG.rst. antsibull-changelog reads the plugins through ansible-doc,
# so it runs in the collection's ansible_collections/ path.
release-notes: $(LATEST)/.stamp collection
	cd $(COLLECTIONS)/ansible_collections/msgraph/security && PATH=$(LATEST)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) \
		antsibull-changelog release --update-existing --version "$$(sed -n 's/^version: //p' galaxy.yml)"

# The emulator needs four packages: it runs from make demo's small venv, not the test toolchain.
emulator: $(DEMO)/.stamp
	PYTHONPATH=$(ROOT)/tests/emulator $(DEMO)/bin/python -m graph_emulator serve --workdir $(BUILD)/emulator --info-file $(BUILD)/emulator/info.json

# Reliability and security suite, plus the integration tests it credits, then docs/reliability.md from the run.
.PHONY: reliability-report
reliability-report: $(LATEST)/.stamp collection
	@rm -rf $(BUILD)/reliability && mkdir -p $(BUILD)
	@status=0; $(PYTEST_ENV) $(LATEST)/bin/python -m pytest $(PYTEST_ARGS) -n 2 --junitxml=$(BUILD)/reliability-junit.xml \
		tests/integration/reliability $$($(LATEST)/bin/python tests/utils/reliability_report.py --reference-tests) || status=$$?; \
	$(LATEST)/bin/python tests/utils/reliability_report.py --junit $(BUILD)/reliability-junit.xml || status=$$?; \
	exit $$status

# The sample outputs of the guides (<!-- sample-output: NAME --> blocks) from a real run against the emulator.
docs-samples: $(LATEST)/.stamp collection
	$(PYTEST_ENV) UPDATE_DOCS_SAMPLES=1 $(LATEST)/bin/python -m pytest $(PYTEST_ARGS) tests/integration/docs/test_command_blocks.py \
		-k sample_output_is_a_real_runs

bench: $(LATEST)/.stamp collection
	$(PYTEST_ENV) $(LATEST)/bin/python tests/bench/run.py

# The bench harness end to end at tiny sizes (part of make test; the benchmark itself is not).
bench-smoke: $(LATEST)/.stamp collection
	$(PYTEST_ENV) $(LATEST)/bin/python -m pytest $(PYTEST_ARGS) --junitxml=$(RESULTS)/bench-smoke.xml tests/bench

clean:
	rm -rf $(BUILD) tests/output
