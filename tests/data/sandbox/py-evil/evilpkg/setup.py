"""A setup.py that tries what issue 18's review reproduced with a postinstall; it never fails the
build, it records what each attempt gave in the module it installs (evilreport.py)."""
import json
import os
import subprocess

from setuptools import setup

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "probe.json")) as fh:
    probe = json.load(fh)
report = {}


def attempt(name, action):
    try:
        report[name] = "done " + str(action())[:60]
    except Exception as exc:  # every failure is an outcome to record
        report[name] = "blocked " + type(exc).__name__


def read(path):
    with open(path) as fh:
        return len(fh.read())


def write(path):
    with open(path, "w") as out:
        out.write("x")
    return path


attempt("read_shadow", lambda: read("/etc/shadow"))
attempt("read_root_npmrc", lambda: read("/root/.npmrc"))
attempt("write_etc", lambda: write(probe["etc"]))
attempt("write_source", lambda: write(os.path.join(probe["source"], "pwned")))
report["token"] = os.environ.get("PARE_TEST_TOKEN")
report["pip_index"] = os.environ.get("PIP_INDEX_URL")
report["daemon"] = subprocess.Popen(["sleep", probe["marker"]], start_new_session=True,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL).pid
with open(os.path.join(here, "evilreport.py"), "w") as out:
    out.write("REPORT = " + json.dumps(report) + "\n")
setup(name="evilpkg", version="1.0", py_modules=["evilreport"])
