# Two entry points for newcomers: `make run` (install + start the app) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# TensorFlow's GPU build where an NVIDIA driver answers (`nvidia-smi -L` lists a GPU), else the
# smaller CPU build; `make run TF_BUILD=cpu` overrides. Switching an existing .venv: `make clean`.
TF_BUILD ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)

.PHONY: run test install install-dev browser postgres test-packages bench clean

$(VENV)/.installed: requirements.txt requirements-$(TF_BUILD).txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-$(TF_BUILD).txt
	touch $@

# Tests need Ray too: the Ray executor's tests start a single-node cluster.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-ray.txt
	$(PY) -m pip install -q -r requirements-dev.txt -r requirements-ray.txt
	touch $@

$(VENV)/.installed-ray: $(VENV)/.installed requirements-ray.txt
	$(PY) -m pip install -q -r requirements-ray.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's packages the tests need, where missing: chromium for the browser tests (Playwright
# drives it; no browser is downloaded), PostgreSQL's server (any version, on 127.0.0.1) for the
# team-server test.
MISSING_CHROMIUM := $(shell command -v chromium >/dev/null 2>&1 || echo chromium)
MISSING_POSTGRES := $(shell ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || echo postgresql)
apt_install = $(if $(strip $(1)),$(SUDO) apt-get update -qq && $(SUDO) env \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(strip $(1)) >/dev/null)

browser:
	$(call apt_install,$(MISSING_CHROMIUM))

postgres:
	$(call apt_install,$(MISSING_POSTGRES))

# Both in one apt-get (apt allows one at a time), beside the pip install.
test-packages:
	$(call apt_install,$(MISSING_CHROMIUM) $(MISSING_POSTGRES))

# DLX_EXECUTOR=ray (training on a Ray cluster) needs Ray installed as well.
run: install $(if $(filter ray,$(DLX_EXECUTOR)),$(VENV)/.installed-ray)
	$(PY) -m streamlit run streamlit_app.py

# Two processes, a test file each at a time (files share fixtures such as a team server): on 2
# cores the suite takes two thirds of the time it takes in one.
test:
	$(MAKE) -j2 install-dev test-packages
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: install-dev browser
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
