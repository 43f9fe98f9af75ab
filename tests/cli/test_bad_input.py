"""The bad-input catalogue, for every command: each gives a one-line error naming the problem, exit 2, no
traceback, and leaves existing results (and everything else in the directory) untouched."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchframe.cli import main
from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths

PROFILE = builtin_profile_paths()[DEFAULT_PROFILE].read_text()


def _cost(value: str, name: str = "irq_save_restore") -> str:
    """The default profile with one cost's line replaced."""
    return re.sub(rf"^{name} = .*$", f"{name} = {value}", PROFILE, count=1, flags=re.MULTILINE)


RUN = ["run", "--design", "array", "--workload", "page_bench04", "--param", "pages=64"]


def _result(change, schema: int = 1) -> str:
    """A result document of one run, the run changed by ``change(run)``."""
    run = {"design": "array", "workload": "page_bench04", "params": {"bulk": 8}, "seed": 1,
           "metrics": {"alloc_cycles_per_page": 1.5}, "units": {}, "violations": [], "profile": "e5-1650v4",
           "config": [], "samples": {}, "kernel": "5.13"}
    change(run)
    return json.dumps({"schema": schema, "runs": [run]})


def files(tmp: Path) -> dict[str, str]:
    """Files the case needs, written before the command runs."""
    return {
        "bad.toml": "[profile\nname = 'x'",
        "typed.toml": _cost('"fast"'),
        "price.toml": _cost("nan", "page_access"),
        "missing.toml": PROFILE.replace("\nclear_page = 128", ""),
        "negative.toml": _cost("-5"),
        "noclock.toml": PROFILE.replace("clock_ghz = 3.6", "clock_ghz = 0"),
        # the schema's cases (#14: accepted, or an internal error, exit 3)
        "tinyclock.toml": PROFILE.replace("clock_ghz = 3.6", "clock_ghz = 1e-320"),
        "infclock.toml": PROFILE.replace("clock_ghz = 3.6", "clock_ghz = inf"),
        "nancost.toml": _cost("nan"),
        "infprice.toml": _cost("inf", "page_access"),
        "halfcost.toml": _cost("33.5"),
        "boolcost.toml": _cost("true"),
        "hugecost.toml": _cost(str(10**12)),
        "namedint.toml": PROFILE.replace('name = "e5-1650v4"', "name = 42"),
        "table.toml": PROFILE.replace("[fit]", "[fitt]"),
        "csv_ok.csv": "workload,design,metric,value,unit\npage_bench04,single,alloc_cycles_per_page,50,cycles\n",
        "csv_nan.csv": "workload,design,metric,value,unit\npage_bench04,single,alloc_cycles_per_page,nan,cycles\n",
        "csv_inf.csv": "workload,design,metric,value,unit\npage_bench04,single,alloc_cycles_per_page,inf,cycles\n",
        "csv_huge.csv": "workload,design,metric,value,unit\npage_bench04,single,alloc_cycles_per_page,1e400,cycles\n",
        "csv_nodesign.csv": "workload,design,metric,value,unit\npage_bench04,,alloc_cycles_per_page,1,cycles\n",
        "share_nan.csv": "symbol,self_share,workload,design\nrmqueue,nan,page_pool,single\n",
        "r_metric.json": _result(lambda r: r["metrics"].update(alloc_cycles_per_page="fast")),
        "r_bool.json": _result(lambda r: r["metrics"].update(alloc_cycles_per_page=True)),
        "r_design.json": _result(lambda r: r.update(design=42)),
        "r_workload.json": _result(lambda r: r.update(workload=None)),
        "r_seed.json": _result(lambda r: r.update(seed="one")),
        "r_params.json": _result(lambda r: r["params"].update(bulk=[1, 2])),
        "r_schema.json": _result(lambda r: None, schema=2),
        "r_runs.json": '{"schema": 1, "runs": {"design": "array"}}',
        "r_nan.json": _result(lambda r: None).replace('"alloc_cycles_per_page": 1.5', '"alloc_cycles_per_page": NaN'),
        "sweep_bad.toml": "[sweep\n",
        "sweep_typed.toml": "[sweep]\ndesigns = 5\n[workloads.page_bench04]\nbulk = [1]\n",
        "sweep_unknown.toml": "[sweep]\ndesigns = ['array']\n[workloads.nosuch]\nbulk = [1]\n",
        "sweep_param.toml": "[sweep]\ndesigns = ['array']\n[workloads.page_bench04]\nbulk = ['x']\n",
        "sweep_empty.toml": "[sweep]\ndesigns = ['array']\n",
        "sweep_seeds.toml": "[sweep]\nseeds = -1\n[workloads.page_bench04]\nbulk = [1]\n",
        "bad.csv": "workload,design,metric,value,unit\npage_bench04,array,alloc_cycles_per_page,fast,cycles\n",
        "short.csv": "workload,design,metric\n",
        "csv_fields.csv": "workload,design,bulk,metric,value,unit\n"
                          "page_bench04,single,1,alloc_free_cycles_per_page,1\n",
        "csv_workload.csv": "workload,design,metric,value,unit\nnosuch,single,x,1,cycles\n",
        "csv_design.csv": "workload,design,metric,value,unit\npage_bench04,nosuch,x,1,cycles\n",
        "csv_metric.csv": "workload,design,metric,value,unit\npage_bench04,single,nosuch_metric,1,cycles\n",
        "csv_bulk.csv": "workload,design,bulk,metric,value,unit\n"
                        "page_bench04,single,x,alloc_cycles_per_page,1,cycles\n",
        "csv_noheader.csv": "# only comments\n",
        "csv_empty.csv": "workload,design,metric,value,unit\n",
        "csv_kernel.csv": "workload,design,kernel,metric,value,unit\npage_bench04,single,2.6,x,1,cycles\n",
        "csv_zero.csv": "workload,design,metric,value,unit\npage_bench04,single,alloc_cycles_per_page,0,cycles\n",
        "csv_symbol.csv": "symbol,self_share,workload,design\n__rmqueue_pcplist,1.0,page_pool,single\n",
        "csv_share_run.csv": "symbol,self_share\nrmqueue,1.0\n",
        "bad.json": '{"runs": [',
        "list.json": "[1, 2, 3]",
        "norun.json": '{"runs": [{"design": "array"}]}',
        "binary.json": "\udcff",
        "afile": "not a directory",
        "sweep_ok.toml": "[sweep]\ndesigns = ['array']\n[workloads.page_bench04]\nbulk = [1, 8]\npages = [64]\n",
        "sweep_key.toml": "[sweep]\ndesign = ['array']\n[workloads.page_bench04]\nbulk = [1]\n",
        "sweep_profile.toml": "[sweep]\nprofile = 'nosuch'\n[workloads.page_bench04]\nbulk = [1]\n",
        "sweep_zero.toml": "[sweep]\ndesigns = ['array']\n[workloads.page_bench04]\nbulk = [8, 0]\n",
        "sweep_grid.toml": "[sweep]\ndesigns = ['array']\n[workloads]\npage_bench04 = 5\n",
        "sweep_seedtype.toml": "[sweep]\nseeds = 'three'\n[workloads.page_bench04]\nbulk = [1]\n",
        "sweep_optvalue.toml": "[sweep]\ndesigns = ['llist:free=splcie']\n[workloads.page_bench04]\nbulk = [1]\n",
        "sweep_manyseeds.toml": "[sweep]\nseeds = 1000000\n[workloads.page_bench04]\nbulk = [1]\n",
        "sweep_manycells.toml": "[sweep]\ndesigns = ['array']\nseeds = 1000\n[workloads.page_bench04]\n"
                                f"bulk = {list(range(1, 1002))}\n",
        "sweep_option.toml": "[sweep]\ndesigns = ['llist:colour=red']\n[workloads.page_bench04]\nbulk = [1]\n",
        # an existing sweep directory whose manifest was damaged, and a directory that is not a sweep
        "swdir/manifest.json": '{"schema": 1, "spec": {',
        "swdir/cells/0123.json": '{"design": "array", "metrics": {}}',
        "notsweep/results.json": '{"runs": []}',
        "swnext/manifest.json": '{"schema": 2, "spec": {}}',
        # new-plugin: a directory that is taken (loose.py, a plugin file that is not installed, is written by
        # the test with the design_plugin fixture)
        "taken/keep": "",
        # traces: an events file that is not one, a text that is no trace, a sweep of a missing trace
        "junk.events.npz": "PK\x03\x04 not a zip archive",
        "sweep_trace.toml": f"[sweep]\ndesigns = ['array']\n[workloads.trace]\nfile = ['{tmp}/none.events.npz']\n",
    }


CASES = [
    # unknown names
    (RUN[:2] + ["nosuch"] + RUN[3:], "unknown design 'nosuch'"),
    (["run", "--design", "array", "--workload", "nosuch"], "unknown workload 'nosuch'"),
    (RUN + ["--param", "nosuch=1"], "unknown parameter 'nosuch'"),
    (RUN + ["--profile", "nosuch"], "unknown profile 'nosuch'"),
    (RUN + ["--config", "NOPE"], "unknown kernel config 'NOPE'"),
    (["run", "--design", "llist:colour=red", "--workload", "page_bench04"], "unknown option"),
    # a declared option's value (#14: llist:free=splcie ran the default)
    (RUN[:2] + ["llist:free=splcie"] + RUN[3:],
     "design llist: option free='splcie' must be one of per_page, batch, splice"),
    (RUN[:2] + ["llist:free=splice,free=per_page"] + RUN[3:], "design llist: option free is given twice"),
    (["compare", "--designs", "array,llist:free=splcie", "--output", "{tmp}/rep"], "must be one of per_page"),
    (["sweep", "{tmp}/sweep_optvalue.toml", "--output", "{tmp}/sw"], "option free='splcie' must be one of"),
    # malformed and wrong-typed values
    (RUN + ["--param", "bulk=x"], "bulk='x' is not an integer"),
    (RUN + ["--param", "bulk=1.5"], "is not an integer"),
    (RUN + ["--param", "bulk"], "expected key=value"),
    (RUN + ["--param", "=5"], "--param '=5': expected key=value"),
    (["run", "--workload", "page_bench04"], "the following arguments are required: --design"),
    (RUN + ["--seed", "one"], "--seeds 'one': expected integers or a range A-B"),
    (RUN + ["--seeds", "3-1"], "--seeds '3-1': expected integers or a range A-B"),
    (["run", "--design", "array", "--workload", "page_bench04", "--param", "bulk=1000", "--param", "pages=10"],
     "bulk=1000 is larger than pages=10"),
    (["run", "--design", "array", "--workload", "page_bench04,sunrpc"], "run takes one workload"),
    (["run", "--design", "array", "--workload", "page_pool", "--param", "remote_free=1.5"], "remote_free <= 1.0"),
    (["run", "--design", "array", "--workload", "page_bench04", "--param", "gfp=GFP_MAGIC"], "unknown gfp flag"),
    (["run", "--design", "array", "--workload", "sunrpc", "--param", "pattern=diagonal"], "must be one of"),
    # negative and zero sizes
    (RUN + ["--param", "bulk=0"], "bulk=0 must be >= 1"),
    (RUN + ["--param", "pages=-1"], "pages=-1 must be >= 1"),
    (["run", "--design", "array", "--workload", "contention", "--param", "cpus=0"], "cpus=0 must be >= 1"),
    (["compare", "--seeds", "x", "--output", "{tmp}/rep"], "--seeds 'x': expected integers"),
    (RUN + ["--jobs", "-2"], "--jobs must be at least 1"),
    # impossible requests
    (["run", "--design", "array", "--workload", "page_bench04", "--param", "bulk=256", "--param", "array_size=128"],
     "larger than the array"),
    (["run", "--design", "array", "--workload", "page_bench04", "--param", "zone_pages=1024", "--param",
      "bulk=1000", "--param", "pages=1000"], "cannot be met by a zone of 1024 pages"),
    (["run", "--design", "array", "--workload", "sunrpc", "--param", "holes=300"], "larger than the array"),
    # profiles: missing, malformed, wrong-typed
    (RUN + ["--profile", "{tmp}/none.toml"], "profile {tmp}/none.toml: cannot read"),
    (RUN + ["--profile", "{tmp}/bad.toml"], "not valid TOML"),
    (RUN + ["--profile", "{tmp}/typed.toml"], "irq_save_restore must be a non-negative integer"),
    (RUN + ["--profile", "{tmp}/missing.toml"], "missing cost(s): clear_page"),
    (RUN + ["--profile", "{tmp}/negative.toml"], "must be a non-negative integer"),
    (RUN + ["--profile", "{tmp}/noclock.toml"], "clock_ghz must be a positive number"),
    (RUN + ["--profile", "{tmp}/price.toml"], "page_access must be a non-negative number"),
    (RUN + ["--kernel", "2.6"], "unknown kernel '2.6'"),
    (RUN + ["--profile", "{tmp}/tinyclock.toml"], "clock_ghz must be a positive number of GHz from 0.01 to 100, "
                                                  "not 1e-320"),
    (RUN + ["--profile", "{tmp}/infclock.toml"], "clock_ghz must be a positive number of GHz from 0.01 to 100, "
                                                 "not inf"),
    (RUN + ["--profile", "{tmp}/nancost.toml"], "cost irq_save_restore must be a non-negative integer"),
    (RUN + ["--profile", "{tmp}/infprice.toml"], "cost page_access must be a non-negative number"),
    (RUN + ["--profile", "{tmp}/halfcost.toml"], "irq_save_restore must be a non-negative integer, at most 10**9"),
    (RUN + ["--profile", "{tmp}/boolcost.toml"], "irq_save_restore must be a non-negative integer"),
    (RUN + ["--profile", "{tmp}/hugecost.toml"], "not 1000000000000"),
    (RUN + ["--profile", "{tmp}/namedint.toml"], "[profile] name must be a non-empty string"),
    (RUN + ["--profile", "{tmp}/table.toml"], "table.toml: fitt: unknown key"),
    (["compare", "--profile", "{tmp}/tinyclock.toml", "--output", "{tmp}/rep"], "clock_ghz must be a positive"),
    (["validate", "--profile", "{tmp}/nancost.toml", "--measurements", "{tmp}/csv_ok.csv"],
     "irq_save_restore must be a non-negative integer"),
    # output locations
    (RUN + ["--json", "{tmp}/nodir/r.json"], "directory {tmp}/nodir does not exist"),
    (RUN + ["--json", "{tmp}/afile/r.json"], "directory {tmp}/afile does not exist"),
    # checked before the work (#14: after it)
    (RUN + ["--json", "{tmp}"], "--json {tmp}: is a directory"),
    (RUN + ["--json", "/proc/r.json"], "--json /proc/r.json: cannot write there"),
    (RUN + ["--metrics", "alloc_cycles_per_page,nosuch"], "--metrics: unknown metric(s) nosuch"),
    (["explore", "--design", "array", "--json", "{tmp}/nodir/e.json"], "directory {tmp}/nodir does not exist"),
    (["explore", "--design", "array", "--json", "{tmp}"], "--json {tmp}: is a directory"),
    (["calibrate", "--output", "{tmp}"], "--output {tmp}: is a directory"),
    (["compare", "--designs", "array", "--workloads", "page_bench04", "--output", "{tmp}/afile/sub"],
     "cannot create directory"),
    (["compare", "--designs", "array,list", "--baseline", "llist", "--output", "{tmp}/rep"], "--baseline"),
    # an explicit --baseline single was taken as "the default" and silently replaced by array
    (["compare", "--designs", "array", "--baseline", "single", "--output", "{tmp}/rep"],
     "--baseline 'single' is not among the designs compared (array)"),
    (["compare", "--designs", "array", "--baseline", "nosuch", "--output", "{tmp}/rep"],
     "--baseline 'nosuch': unknown design"),
    # sweep specs
    (["sweep", "{tmp}/sweep_bad.toml", "--output", "{tmp}/sw"], "not valid TOML"),
    (["sweep", "{tmp}/sweep_typed.toml", "--output", "{tmp}/sw"], "designs must be a non-empty list"),
    (["sweep", "{tmp}/sweep_unknown.toml", "--output", "{tmp}/sw"], "unknown workload 'nosuch'"),
    (["sweep", "{tmp}/sweep_param.toml", "--output", "{tmp}/sw"], "is not an integer"),
    (["sweep", "{tmp}/sweep_empty.toml", "--output", "{tmp}/sw"], "needs at least one [workloads.NAME]"),
    (["sweep", "{tmp}/sweep_seeds.toml", "--output", "{tmp}/sw"], "seeds must be at least 1"),
    (["sweep", "{tmp}/none.toml"], "cannot read"),
    (["sweep", "{tmp}/sweep_key.toml", "--output", "{tmp}/sw"], "unknown key(s) in [sweep]: design"),
    (["sweep", "{tmp}/sweep_profile.toml", "--output", "{tmp}/sw"], "unknown profile 'nosuch'"),
    (["sweep", "{tmp}/sweep_zero.toml", "--output", "{tmp}/sw"], "bulk=0 must be >= 1"),
    (["sweep", "{tmp}/sweep_grid.toml", "--output", "{tmp}/sw"], "[workloads.page_bench04] must be a table"),
    (["sweep", "{tmp}/sweep_seedtype.toml", "--output", "{tmp}/sw"], "seeds must be a count or a list"),
    (["sweep", "{tmp}/sweep_option.toml", "--output", "{tmp}/sw"], "unknown option 'colour=red'"),
    # sweep results directories and executors
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/afile/sw"], "cannot create directory"),
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/swdir", "--resume"], "corrupted manifest"),
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/notsweep", "--resume"], "not a sweep directory"),
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/swnext", "--resume"], "unknown sweep schema version 2"),
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/sw", "--scheduler", "notaurl"],
     "not a scheduler address"),
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/sw", "--jobs", "-1"], "--jobs must be at least 1"),
    (RUN + ["--scheduler", "tcp://127.0.0.1:notaport"], "not a scheduler address"),
    (RUN + ["--executor", "cloud"], "invalid choice: 'cloud'"),
    (RUN + ["--scheduler", "ftp://127.0.0.1:8786"], "expected tcp://HOST:PORT or tls://HOST:PORT"),
    (RUN + ["--scheduler", "tcp://127.0.0.1:99999"], "not a scheduler address"),
    (RUN + ["--tls-cert", "{tmp}/typed.toml"], "--tls-ca-file/--tls-cert/--tls-key need a --scheduler tls://"),
    (RUN + ["--scheduler", "tcp://127.0.0.1:9", "--tls-ca-file", "{tmp}/typed.toml"], "need a tls:// address"),
    (RUN + ["--scheduler", "tls://127.0.0.1:9", "--tls-ca-file", "{tmp}/none.pem"], "--tls-ca-file {tmp}/none.pem: "
                                                                                     "no such file"),
    (RUN + ["--scheduler", "tls://127.0.0.1:9"], "tls:// needs --tls-ca-file, --tls-cert and --tls-key"),
    (RUN + ["--scheduler", "tls://127.0.0.1:9", "--tls-ca-file", "{tmp}/typed.toml"], "needs both --tls-ca-file and"),
    (RUN + ["--scheduler", "tls://127.0.0.1:9", "--tls-ca-file", "{tmp}/typed.toml", "--tls-cert", "{tmp}/typed.toml"],
     "bad TLS files"),
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/sw", "--scheduler", "tls://127.0.0.1:9"],
     "tls:// needs --tls-ca-file"),
    # measurement CSVs and result JSON
    (["validate", "--measurements", "{tmp}/bad.csv"], "value 'fast' is not a number"),
    (["validate", "--tolerance", "-5"], "--tolerance must be a non-negative percentage"),
    (["validate", "--measurements", "{tmp}/short.csv"], "short.csv:1: header lacks column(s) value, unit"),
    (["validate", "--measurements", "{tmp}/csv_fields.csv"], "csv_fields.csv:2: 5 fields, the header has 6"),
    (["validate", "--measurements", "{tmp}/csv_workload.csv"], "unknown workload 'nosuch'"),
    (["validate", "--measurements", "{tmp}/csv_design.csv"], "unknown design 'nosuch'"),
    (["validate", "--measurements", "{tmp}/csv_metric.csv"], "workload page_bench04 has no metric 'nosuch_metric'"),
    (["validate", "--measurements", "{tmp}/csv_bulk.csv"], "parameter bulk='x' is not an integer"),
    (["validate", "--measurements", "{tmp}/csv_noheader.csv"], "csv_noheader.csv: no header line"),
    (["validate", "--measurements", "{tmp}/csv_empty.csv"], "no measurements after the header"),
    (["validate", "--measurements", "{tmp}/csv_kernel.csv"], "csv_kernel.csv:2: unknown kernel '2.6'"),
    (["validate", "--measurements", "{tmp}/csv_zero.csv"], "csv_zero.csv:2: value '0' must be a positive"),
    (["validate", "--measurements", "{tmp}/csv_symbol.csv"], "'__rmqueue_pcplist' is inlined in the model's kernel"),
    (["validate", "--measurements", "{tmp}/csv_share_run.csv"], "csv_share_run.csv:1: header lacks column(s) workload"),
    (["validate", "--measurements", "{tmp}/csv_nan.csv"], "csv_nan.csv:2: value 'nan' must be a positive finite"),
    (["validate", "--measurements", "{tmp}/csv_inf.csv"], "csv_inf.csv:2: value 'inf' must be a positive finite"),
    (["validate", "--measurements", "{tmp}/csv_huge.csv"], "value '1e400' must be a positive finite number"),
    (["validate", "--measurements", "{tmp}/csv_nodesign.csv"], "csv_nodesign.csv:2: design: String should have at"),
    (["validate", "--measurements", "{tmp}/share_nan.csv"], "share_nan.csv:2: value 'nan' must be a positive"),
    (["calibrate", "--measurements", "{tmp}/csv_nan.csv", "--output", "{tmp}/p.toml"], "must be a positive finite"),
    # calibrate: the same files, the costs to fit, the output
    (["calibrate", "--measurements", "{tmp}/bad.csv", "--output", "{tmp}/p.toml"], "value 'fast' is not a number"),
    (["calibrate", "--measurements", "{tmp}/csv_design.csv", "--output", "{tmp}/p.toml"], "unknown design"),
    (["calibrate", "--fit", "page_access,nosuch", "--output", "{tmp}/p.toml"], "--fit: unknown cost(s) nosuch"),
    (["calibrate", "--fit", "page_access,page_access", "--output", "{tmp}/p.toml"], "a cost is named twice"),
    (["calibrate", "--output", "{tmp}/nodir/p.toml"], "directory {tmp}/nodir does not exist"),
    (["calibrate", "--profile", "{tmp}/typed.toml", "--output", "{tmp}/p.toml"], "must be a non-negative"),
    (["calibrate", "--profile", "i7-4790k", "--measurements", "{tmp}/csv_workload.csv", "--output",
      "{tmp}/p.toml"], "unknown workload 'nosuch'"),
    (["calibrate", "--name", " ", "--output", "{tmp}/p.toml"], "argument --name: an empty value"),
    (["report", "{tmp}/bad.json"], "not a valid JSON result file"),
    (["report", "{tmp}/list.json"], "not a benchframe result document"),
    (["report", "{tmp}/norun.json"], "lacks design/workload/params/metrics"),
    (["report", "{tmp}/none.json"], "cannot read"),
    (["report", "{tmp}/swdir"], "0123.json: run 0 lacks design/workload/params/metrics"),
    (["report", "{tmp}/r_metric.json"], "run 0: metrics.alloc_cycles_per_page: should be a valid number, not 'fast'"),
    (["report", "{tmp}/r_bool.json"], "run 0: metrics.alloc_cycles_per_page: should be a valid number, not True"),
    (["report", "{tmp}/r_design.json"], "r_design.json: run 0: design: should be a valid string, not 42"),
    (["report", "{tmp}/r_workload.json"], "run 0: workload: should be a valid string, not None"),
    (["report", "{tmp}/r_seed.json"], "run 0: seed: should be a valid integer, not 'one'"),
    (["report", "{tmp}/r_params.json"], "run 0: params.bulk: should be a number, a string or a boolean, not [1, 2]"),
    (["report", "{tmp}/r_schema.json"], "r_schema.json: unknown result schema version 2 (this benchframe reads 1)"),
    (["report", "{tmp}/r_runs.json"], "r_runs.json: runs: should be a valid list"),
    (["report", "{tmp}/r_nan.json"], "not a valid JSON result file (NaN is not a JSON number)"),
    (["history", "--results", "{tmp}/noresults"], "no such directory"),
    # trace files (benchframe trace import's own bad inputs are in tests/trace/test_import.py)
    (["run", "--design", "array", "--workload", "trace", "--param", "file={tmp}/none.events.npz"],
     "{tmp}/none.events.npz: no such file"),
    (["run", "--design", "array", "--workload", "trace", "--param", "file={tmp}/junk.events.npz"],
     "not a trace imported by 'benchframe trace import'"),
    (["run", "--design", "array", "--workload", "trace", "--param", "file={tmp}/bad.json"],
     "bad.json: line 1: not perf script, ftrace or trace-cmd text"),
    (["run", "--design", "array", "--workload", "trace", "--param", "file={tmp}/swdir"], "is a directory"),
    (["run", "--design", "array", "--workload", "trace"], "workload trace: parameter file is required"),
    (["run", "--design", "array", "--workload", "trace", "--param", "batch=window:0"],
     "batch='window:0': expected none, runs or window:N"),
    (["compare", "--workloads", "trace:{tmp}/junk.events.npz", "--output", "{tmp}/rep"], "not a trace imported"),
    (["compare", "--workloads", "trace", "--output", "{tmp}/rep"], "workload trace: parameter file is required"),
    (["compare", "--workloads", "nosuch:x", "--output", "{tmp}/rep"], "unknown workload 'nosuch'"),
    (["sweep", "{tmp}/sweep_trace.toml", "--output", "{tmp}/sw"], "none.events.npz: no such file"),
    # commands and plugins
    (["explore", "--design", "nosuch"], "unknown design"),
    (["explore", "--design", "array", "--context", "softirq"], "invalid choice"),
    (["new-plugin", "Not-Valid", "--dir", "{tmp}"], "plugin name 'Not-Valid' must be a lower-case Python identifier"),
    (["new-plugin", "array", "--dir", "{tmp}"], "a design named 'array' is already registered"),
    (["new-plugin", "fine", "--from", "nosuch", "--dir", "{tmp}"], "unknown design 'nosuch'"),
    (["new-plugin", "taken", "--dir", "{tmp}"], "already exists"),
    (["new-plugin", "child", "--from", "loose", "--plugin", "{tmp}/loose.py", "--dir", "{tmp}"], "not importable"),
    (["frobnicate"], "invalid choice"),
    # bounds on what would exhaust time or memory, checked before anything runs (#14: they ran for hours,
    # ran out of memory, or -- cpus=512 -- ended in an internal error)
    (RUN + ["--param", f"pages={10**9}"], "pages=1000000000 is over its bound pages <= 16777216"),
    (RUN + ["--param", f"zone_pages={2**40}"], "is over its bound zone_pages <= 16777216"),
    (["run", "--design", "array", "--workload", "contention", "--param", f"cpus={10**6}"],
     "cpus=1000000 is over its bound cpus <= 254"),
    (["run", "--design", "array", "--workload", "contention", "--param", "cpus=512"], "cpus <= 254"),
    (["run", "--design", "array", "--workload", "page_pool", "--param", "remote_free=2"], "remote_free <= 1.0"),
    (["run", "--design", "array", "--workload", "sunrpc", "--param", f"calls={10**9}"], "calls <= 1000000"),
    (["compare", "--seeds", f"1-{10**6}", "--output", "{tmp}/rep"],
     "--seeds 1-1000000: 1000000 seeds is over the bound of 1000"),
    (RUN + ["--seed", ",".join(map(str, range(1001)))], "--seeds: 1001 seeds is over the bound of 1000"),
    (RUN + ["--jobs", str(10**5)], "--jobs 100000 is over its bound of 256"),
    (RUN + ["--cell-timeout", "-1"], "--cell-timeout must be a number of seconds (0: no limit), not -1"),
    (RUN + ["--cell-timeout", "nan"], "argument --cell-timeout: 'nan' is not a finite number"),
    (["compare", "--cell-timeout", "inf", "--output", "{tmp}/rep"], "argument --cell-timeout: 'inf' is not a finite"),
    (["sweep", "{tmp}/sweep_ok.toml", "--output", "{tmp}/sw", "--cell-timeout", "-5"], "--cell-timeout must be"),
    (["sweep", "{tmp}/sweep_manyseeds.toml", "--output", "{tmp}/sw"], "seeds = 1000000 is over its bound of 1000"),
    (["sweep", "{tmp}/sweep_manycells.toml", "--output", "{tmp}/sw"], "1001000 cells is over the bound of 1000000"),
]


@pytest.mark.parametrize("argv, needle", CASES, ids=[f"{i:02d}-{c[1][:30]}" for i, c in enumerate(CASES)])
def test_bad_input(argv, needle, tmp_path, capsys, design_plugin):
    for name, text in files(tmp_path).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, errors="surrogateescape")
    design_plugin("loose", path=tmp_path / "loose.py")
    sentinel = tmp_path / "results.json"
    sentinel.write_text('{"runs": []}\n')
    before = _tree(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    needle = needle.replace("{tmp}", str(tmp_path))
    if "--json" not in argv and argv[0] == "run":
        argv += ["--json", str(sentinel)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("benchframe: error:") and needle in err, err
    assert "Traceback" not in err
    assert sentinel.read_text() == '{"runs": []}\n'  # existing results untouched
    assert not [p for p in tmp_path.rglob(".*.tmp")]  # nothing half-written
    # nor anything else: no file and no directory (a failed sweep leaves no results directory behind, a refused
    # new-plugin no package directory)
    assert _tree(tmp_path) == before


def _tree(root: Path) -> dict[Path, bytes | None]:
    """Every file (with its bytes) and directory (None) under ``root``."""
    return {p: p.read_bytes() if p.is_file() else None for p in root.rglob("*")}


def test_catalogue_size():
    assert len(CASES) >= 25


def test_corrupted_sweep_cell_on_resume(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text("[sweep]\ndesigns = ['array']\n[workloads.page_bench04]\nbulk = [1, 8]\npages = [64]\n")
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    cell = sorted((out / "cells").glob("*.json"))[0]
    cell.write_text('{"design": "arr')
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["sweep", str(spec), "--output", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "corrupted results file" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_resume_with_a_different_spec_is_refused(tmp_path, capsys):
    a = tmp_path / "a.toml"
    a.write_text("[sweep]\ndesigns = ['array']\n[workloads.page_bench04]\nbulk = [1]\npages = [64]\n")
    b = tmp_path / "b.toml"
    b.write_text("[sweep]\ndesigns = ['list']\n[workloads.page_bench04]\nbulk = [1]\npages = [64]\n")
    out = tmp_path / "out"
    assert main(["sweep", str(a), "--output", str(out), "--executor", "serial"]) == 0
    assert main(["sweep", str(b), "--output", str(out), "--resume"]) == 2
    assert "different spec" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["run", "--design", "nosuch", "--workload", "page_bench04"],
    ["sweep", "/nonexistent/spec.toml"],
    ["report", "/nonexistent/r.json"],
])
def test_no_traceback_in_a_real_process(argv):
    proc = subprocess.run([sys.executable, "-m", "benchframe.cli", *argv], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# -- the second round (#25): nothing overwritten that is not ours, nothing counted twice, no unbounded read, no
# silent default. Each case: the command (benchframe's, or the soak runner's), what its one line must say, the
# exit status (2: refused; 0: counted once, with one warning line) and an output another benchframe holds. A
# refused command leaves every file, link, FIFO and device as it found it (``_entries``): an earlier report,
# earlier results, the targets it was pointed at.
TRACE = ("            bash  4230 [000]  1352.408053:             kmem:mm_page_alloc: page=0x13dd08 pfn={pfn} "
         "order=0 migratetype={mt} gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n")
ROWS = "workload,design,test,pages,metric,value,unit\n"
ROW = "page_bench04,single,single,64,alloc_free_cycles_per_page,{value},{unit}\n"
SWEEP = "[sweep]\ndesigns = ['array']\n[workloads.page_bench04]\npages = [64]\n"


def files2(tmp: Path) -> dict[str, object]:
    """The round's files; a value that is callable makes the entry itself (a FIFO, a link, a large file)."""
    import os

    def fifo(path):
        os.mkfifo(path)

    def link(to):
        return lambda path: path.symlink_to(tmp / to)

    def big(size, head=b""):
        return lambda path: path.write_bytes(head + b"#" * (size - len(head)))

    def swdir(cell):  # a sweep directory whose one cell is ``cell``
        def make(path):
            (path / "cells").mkdir(parents=True)
            (path / "manifest.json").write_text('{"schema": 1, "spec": {"designs": ["array"], "seeds": [1], '
                                                '"profile": null, "config": [], "workloads": {}}}')
            cell(path / "cells" / "0123.json")
        return make

    def bomb(path):
        import io
        import zipfile

        import numpy as np

        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<i8", "fortran_order": False, "shape": (10**12,)})
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("pfn.npy", header.getvalue())

    run_doc = json.loads(_result(lambda r: None))
    other = json.loads(_result(lambda r: r["metrics"].update(alloc_cycles_per_page=2.5)))
    return {
        "fifo": fifo, "fifo_link": link("fifo"), "dangling": link("nowhere"), "adir": lambda p: p.mkdir(),
        "adir_link": link("adir"),
        "repfifo": lambda p: (p.mkdir(), os.mkfifo(p / "pipe")),
        # bounded reads
        "big.toml": big((4 << 20) + 1), "bigprofile.toml": big((1 << 20) + 1),
        "big.csv": big((16 << 20) + 1), "rows.csv": ROWS + ROW.format(value=200, unit="cycles") * 10_001,
        "deep.toml": "[sweep]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
        "deep40.toml": "[sweep]\nx = " + "[" * 40 + "]" * 40 + "\n",
        "deepprofile.toml": PROFILE.replace("[fit]", "[fit]\nx = " + "[" * 5000 + "]" * 5000, 1),
        "deep.json": '{"schema": 1, "runs": ' + "[" * 5000 + "]" * 5000 + "}",
        "deep40.json": '{"schema": 1, "runs": [], "x": ' + "[" * 40 + "]" * 40 + "}",
        "swdeep": swdir(lambda p: p.write_text("[" * 5000 + "]" * 5000)),
        "hugeint.toml": "[sweep]\nseeds = " + "9" * 5000 + "\n",
        "hugeint.json": '{"schema": 1, "runs": [], "x": ' + "9" * 5000 + "}",
        "longline.txt": big(2 << 20, TRACE.format(pfn="0x1", mt=1).encode()),
        "pfn64.txt": TRACE.format(pfn="0x1ffffffffffffffff", mt=1),
        "pfnneg.txt": TRACE.format(pfn="-1", mt=1),
        "pfnhuge.txt": TRACE.format(pfn=str(2**64), mt=1),
        "migratetype.txt": TRACE.format(pfn="0x1", mt=300),
        "cpu.txt": TRACE.format(pfn="0x1", mt=1).replace("[000]", "[99999999999]"),
        "asv": lambda p: ((p / "m").mkdir(parents=True), os.mkfifo(p / "m" / "abc.json")),
        # units and profile names in measurements
        "ms.csv": ROWS + ROW.format(value=0.2, unit="ms"), "nounit.csv": ROWS + ROW.format(value=200, unit=""),
        "pages.csv": ROWS + ROW.format(value=200, unit="pages"),
        "calls.csv": ROWS + "page_bench04,single,single,64,fallbacks,3,cycles\n",
        "us.csv": ROWS + ROW.format(value=0.06, unit="us"),
        "ppath.csv": "workload,design,pages,profile,metric,value,unit\n"
                     f"page_bench04,single,64,{tmp}/typed.toml,alloc_free_cycles_per_page,200,cycles\n",
        "pname.csv": "workload,design,pages,profile,metric,value,unit\n"
                     "page_bench04,single,64,nosuch,alloc_free_cycles_per_page,200,cycles\n",
        "typed.toml": _cost('"fast"'),
        "ok.csv": ROWS + ROW.format(value=200, unit="cycles"),
        # a quoted field running on to the next line (csv across lines read it as the value 200)
        "quoted.csv": ROWS + ROW.format(value='"20\n0"', unit="cycles"),
        # results: one run, the same run with other figures, a negative metric (a document and a sweep cell)
        "x.json": json.dumps(run_doc), "x2.json": json.dumps(other),
        "neg.json": _result(lambda r: r["metrics"].update(alloc_cycles_per_page=-1.5)),
        "negcount.json": _result(lambda r: r["metrics"].update(fallbacks=-3)),
        "swneg": swdir(lambda p: p.write_text(json.dumps({**run_doc["runs"][0], "metrics": {"fallbacks": -1}}))),
        # sweep specs: empty and non-finite values, duplicates
        "s_kernel.toml": SWEEP.replace("[sweep]\n", "[sweep]\nkernel = ''\n"),
        "s_profile.toml": SWEEP.replace("[sweep]\n", "[sweep]\nprofile = ''\n"),
        "s_config.toml": SWEEP.replace("[sweep]\n", "[sweep]\nconfig = ['']\n"),
        "s_output.toml": SWEEP.replace("[sweep]\n", "[sweep]\noutput = ''\n"),
        "s_nan.toml": "[sweep]\ndesigns = ['array']\n[workloads.page_pool]\nremote_free = [nan]\n",
        "s_inf.toml": "[sweep]\ndesigns = ['array']\n[workloads.page_pool]\nremote_free = [inf]\n",
        "s_twice.toml": SWEEP.replace("pages = [64]", "pages = [64]\nbulk = [8, '8']"),
        "s_designs.toml": SWEEP.replace("['array']", "['array', 'array']"),
        "s_negseed.toml": SWEEP.replace("[sweep]\n", "[sweep]\nseeds = [-1, 1]\n"),
        "s_proffile.toml": SWEEP.replace("[sweep]\n", "[sweep]\nprofile = 'typed.toml'\n"),
        # inputs found inside a directory or named by a link: a FIFO cell, a link to itself, a PEM directory
        "swfifo": swdir(fifo), "loop": lambda p: p.symlink_to(p), "pemdir": lambda p: p.mkdir(),
        # an events file whose array header claims 10**12 elements (numpy would allocate 8 TB before reading)
        "bomb.events.npz": bomb,
    }


R2 = ["run", "--design", "array", "--workload", "page_bench04", "--param", "pages=64", "--executor", "serial"]
PERF = ["perf", "--designs", "array", "--workload", "page_bench04", "--param", "pages=64"]
CMP = ["compare", "--designs", "array", "--workloads", "page_bench04", "--output", "{tmp}/rep"]
SW = ["--output", "{tmp}/sw"]

ROUND2 = [
    # -- outputs: only a regular file (or nothing yet) is replaced; a symlink keeps its meaning ---------------------
    (R2 + ["--json", "{tmp}/fifo"], "--json {tmp}/fifo: is a FIFO (named pipe); benchframe replaces only regular"),
    (R2 + ["--json", "/dev/full"], "--json /dev/full: is a character device"),
    (R2 + ["--json", "/dev/null"], "--json /dev/null: is a character device"),
    (R2 + ["--json", "{tmp}/fifo_link"], "--json {tmp}/fifo_link: is a symbolic link to a FIFO"),
    (R2 + ["--json", "{tmp}/dangling"], "--json {tmp}/dangling: is a symbolic link to nothing"),
    (R2 + ["--json", "{tmp}/adir_link"], "--json {tmp}/adir_link: is a symbolic link to a directory"),
    (R2 + ["--json", "{tmp}/adir"], "--json {tmp}/adir: is a directory"),
    (["explore", "--design", "array", "--json", "{tmp}/fifo"], "--json {tmp}/fifo: is a FIFO"),
    (["explore", "--design", "array", "--json", "/dev/full"], "--json /dev/full: is a character device"),
    (["calibrate", "--output", "{tmp}/fifo"], "--output {tmp}/fifo: is a FIFO"),
    (["calibrate", "--output", "/dev/full"], "--output /dev/full: is a character device"),
    (["calibrate", "--output", "{tmp}/dangling"], "is a symbolic link to nothing"),
    (PERF + ["--folded", "{tmp}/fifo"], "--folded {tmp}/fifo: is a FIFO"),
    (PERF + ["--svg", "/dev/full"], "--svg /dev/full: is a character device"),
    (["trace", "import", "{tmp}/pfn64.txt", "--output", "{tmp}/fifo"], "--output {tmp}/fifo: is a FIFO"),
    (["trace", "import", "{tmp}/pfn64.txt", "--output", "/dev/full"], "--output /dev/full: is a character device"),
    (["trace", "summary", "{tmp}/none.npz", "--plot", "/dev/full"], "--plot /dev/full: is a character device"),
    (["trace", "summary", "{tmp}/none.npz", "--plot", "{tmp}/fifo_link"], "is a symbolic link to a FIFO"),
    (CMP[:-1] + ["{tmp}/fifo"], "--output {tmp}/fifo: is a FIFO (named pipe), not a directory"),
    (CMP[:-1] + ["{tmp}/fifo_link"], "--output {tmp}/fifo_link: is a symbolic link to a FIFO"),
    (CMP[:-1] + ["{tmp}/dangling"], "--output {tmp}/dangling: is a symbolic link to nothing"),
    (CMP[:-1] + ["/dev/null"], "--output /dev/null: is a character device, not a directory"),
    (CMP[:-1] + ["{tmp}/repfifo"], "holds pipe, a FIFO (named pipe), which a report directory cannot carry over"),
    (["report", "{tmp}/x.json", "--output", "{tmp}/fifo"], "--output {tmp}/fifo: is a FIFO"),
    (["report", "{tmp}/x.json", "--output", "/dev/full"], "--output /dev/full: is a character device"),
    (["sweep", "{tmp}/ok.toml", "--output", "{tmp}/fifo"], "--output {tmp}/fifo: cannot create directory"),
    (["sweep", "{tmp}/ok.toml", "--output", "/dev/null"], "--output /dev/null: cannot create directory"),
    # -- the output lock: a second command into an output another one writes fails naming it ----------------------
    (CMP, ("rep", "--output {tmp}/rep: another benchframe is writing there (pid ")),
    (["report", "{tmp}/x.json", "--output", "{tmp}/rep"], ("rep", "another benchframe is writing there (pid ")),
    (R2 + ["--json", "{tmp}/results.json"], ("results.json", "--json {tmp}/results.json: another benchframe is")),
    (["sweep", "{tmp}/ok.toml", "--output", "{tmp}/adir"], ("adir/", "--output {tmp}/adir: another benchframe is "
                                                                       "writing there (pid ")),
    # -- bounded reads: not a file, too large, too deep, an endless integer ------------------------------------------
    (["sweep", "/dev/zero"], "/dev/zero: is a character device, not a file"),
    (R2 + ["--profile", "/dev/zero"], "profile /dev/zero: is a character device, not a file"),
    (["validate", "--measurements", "/dev/zero"], "/dev/zero: is a character device, not a file"),
    (["report", "/dev/zero"], "/dev/zero: is a character device, not a file"),
    (["calibrate", "--measurements", "/dev/zero", "--output", "{tmp}/p.toml"], "/dev/zero: is a character device"),
    (["calibrate", "--profile", "/dev/zero", "--output", "{tmp}/p.toml"], "profile /dev/zero: is a character device"),
    (["sweep", "/dev/zero", "--resume"], "/dev/zero: is a character device, not a file"),
    (["sweep", "{tmp}/adir"], "{tmp}/adir: is a directory, not a file"),
    (["trace", "import", "/dev/zero"], "/dev/zero: is a character device, not a trace file"),
    (["trace", "import", "{tmp}/fifo"], "{tmp}/fifo: is a FIFO (named pipe), not a trace file"),
    (["run", "--design", "array", "--workload", "trace", "--param", "file=/dev/zero"], "is a character device"),
    (["sweep", "{tmp}/big.toml"], "big.toml: larger than 4 MiB, the bound for sweep spec files"),
    (R2 + ["--profile", "{tmp}/bigprofile.toml"], "larger than 1 MiB, the bound for profile files"),
    (["validate", "--measurements", "{tmp}/big.csv"], "big.csv: larger than 16 MiB, the bound for measurements files"),
    (["validate", "--measurements", "{tmp}/rows.csv"], "rows.csv: 10001 measurement rows is over the bound of 10000"),
    (["calibrate", "--measurements", "{tmp}/big.csv", "--output", "{tmp}/p.toml"], "larger than 16 MiB"),
    (["sweep", "{tmp}/deep.toml"], "deep.toml: not valid TOML: nested deeper than 32 levels"),
    (["sweep", "{tmp}/deep40.toml"], "deep40.toml: not valid TOML: nested deeper than 32 levels"),
    (R2 + ["--profile", "{tmp}/deepprofile.toml"], "not valid TOML: nested deeper than 32 levels"),
    (["calibrate", "--profile", "{tmp}/deepprofile.toml", "--output", "{tmp}/p.toml"], "nested deeper than 32"),
    (["report", "{tmp}/deep.json"], "deep.json: not a valid JSON result file (nested deeper than 32 levels)"),
    (["report", "{tmp}/deep40.json"], "deep40.json: not a valid JSON result file (nested deeper than 32 levels)"),
    (["report", "{tmp}/swdeep"], "not a valid JSON result file (nested deeper than 32 levels)"),
    (["sweep", "{tmp}/hugeint.toml"], "hugeint.toml: not valid TOML: Exceeds the limit (4300 digits)"),
    (["report", "{tmp}/hugeint.json"], "not a valid JSON result file (Exceeds the limit (4300 digits)"),
    (["history", "--results", "{tmp}/asv"], "abc.json: is a FIFO (named pipe), not a file"),
    (["report", "{tmp}/swfifo"], "swfifo/cells/0123.json: is a FIFO (named pipe), not a file"),
    (["report", "{tmp}/loop"], "{tmp}/loop: cannot read: Too many levels of symbolic links"),
    (["trace", "summary", "/dev/zero"], "/dev/zero: is a character device, not a file"),
    (["trace", "summary", "{tmp}/fifo"], "{tmp}/fifo: is a FIFO (named pipe), not a file"),
    (["trace", "summary", "{tmp}/adir"], "{tmp}/adir: is a directory, not an imported trace"),
    (["trace", "summary", "{tmp}/pfn64.txt"], "pfn64.txt: not a trace imported by 'benchframe trace import' (not "
                                              "an .npz archive: import a trace's text first"),
    (["run", "--design", "array", "--workload", "trace", "--param", "file={tmp}/fifo"],
     "{tmp}/fifo: is a FIFO (named pipe), not a trace file"),
    (["trace", "summary", "{tmp}/bomb.events.npz"], "damaged events file: pfn.npy claims more than it holds"),
    (["run", "--design", "array", "--workload", "trace", "--param", "file={tmp}/bomb.events.npz"],
     "damaged events file"),
    (["trace", "import", "{tmp}/longline.txt"], "longline.txt: line 2: longer than 1024 KiB: not a trace"),
    # -- trace fields beyond their range: an error, never stored wrapped (pfn -1 read as a failed allocation) -----
    (["trace", "import", "{tmp}/pfn64.txt"], "line 1: kmem:mm_page_alloc: pfn=0x1ffffffffffffffff is out of range"),
    (["trace", "import", "{tmp}/pfnneg.txt"], "line 1: kmem:mm_page_alloc: pfn=-1 is out of range"),
    (["trace", "import", "{tmp}/pfnhuge.txt"], "pfn=18446744073709551616 is out of range"),
    (["trace", "import", "{tmp}/migratetype.txt"], "line 1: mm_page_alloc: migratetype=300 is out of range (-128"),
    (["trace", "import", "{tmp}/cpu.txt"], "line 1: mm_page_alloc: cpu=99999999999 is out of range"),
    (["run", "--design", "array", "--workload", "trace", "--param", "file={tmp}/pfn64.txt"], "is out of range"),
    # -- units: a measurement in another unit than its metric's is refused (ns <-> cycles converts) -----------------
    (["validate", "--measurements", "{tmp}/ms.csv"], "ms.csv:2: unit 'ms' is not the unit of "
                                                      "alloc_free_cycles_per_page, cycles (or ns, converted"),
    (["validate", "--measurements", "{tmp}/nounit.csv"], "nounit.csv:2: unit '' is not the unit of"),
    (["validate", "--measurements", "{tmp}/pages.csv"], "unit 'pages' is not the unit of"),
    (["validate", "--measurements", "{tmp}/calls.csv"], "unit 'cycles' is not the unit of fallbacks, calls"),
    (["calibrate", "--measurements", "{tmp}/us.csv", "--output", "{tmp}/p.toml"], "unit 'us' is not the unit of"),
    (["calibrate", "--measurements", "{tmp}/nounit.csv", "--output", "{tmp}/p.toml"], "unit '' is not the unit"),
    (["validate", "--measurements", "{tmp}/quoted.csv"], "quoted.csv:2: malformed CSV: unexpected end of data (a "
                                                          "quoted field ends on its line)"),
    (["calibrate", "--measurements", "{tmp}/quoted.csv", "--output", "{tmp}/p.toml"], "quoted.csv:2: malformed"),
    # -- a profile column names a profile; it is never opened as a path ------------------------------------------------
    (["validate", "--measurements", "{tmp}/ppath.csv"], "ppath.csv:2: unknown profile '{tmp}/typed.toml': the "
                                                         "profile column names a profile"),
    (["validate", "--measurements", "{tmp}/pname.csv"], "pname.csv:2: unknown profile 'nosuch'"),
    # -- nothing counted twice: refused where the two differ, counted once with a warning where they do not -----------
    (["report", "{tmp}/x.json", "{tmp}/x2.json"], "x2.json: run 0 is the run of {tmp}/x.json: run 0 (array on "
                                                   "page_bench04 {'bulk': 8}, seed 1) with other figures"),
    (["report", "{tmp}/x.json", "{tmp}/x.json"], "x.json: named twice (as {tmp}/x.json): read once", 0),
    (["report", "{tmp}/x.json", "{tmp}/../{name}/x.json"], "named twice", 0),
    (R2 + ["--param", "bulk=8,8"], "--param: 2 points named, 1 distinct; each runs once", 0),
    (R2 + ["--param", "bulk=8,08"], "--param: 2 points named, 1 distinct; each runs once", 0),
    (R2 + ["--designs", "array"], "--designs: array named more than once; each counted once", 0),
    (R2 + ["--seeds=-1"], "--seeds -1: a seed is a non-negative integer (seed -1 would repeat seed 1)"),
    (["sweep", "{tmp}/s_negseed.toml", *SW], "s_negseed.toml: [sweep] seeds: -1 is not a non-negative integer"),
    (R2 + ["--seeds", "1,1-2"], "--seeds: 3 seeds named, 2 distinct; each runs once", 0),
    (["sweep", "{tmp}/s_twice.toml", "--executor", "serial", *SW], "2 cells listed, 1 distinct (each runs once)", 0),
    (["sweep", "{tmp}/s_designs.toml", "--executor", "serial", *SW], "2 cells listed, 1 distinct", 0),
    # -- a negative metric in a result file -----------------------------------------------------------------------
    (["report", "{tmp}/neg.json"], "run 0: metrics.alloc_cycles_per_page: should be a non-negative number"),
    (["report", "{tmp}/negcount.json"], "run 0: metrics.fallbacks: should be a non-negative number"),
    (["report", "{tmp}/swneg"], "0123.json: run 0: metrics.fallbacks: should be a non-negative number"),
    # -- no silent default: empty values, empty list items, numbers that are not finite ----------------------------
    (R2[:2] + [",,"] + R2[3:], "argument --designs/--design: ',,': an empty item in a comma-separated list"),
    (["compare", "--designs", ",,", "--output", "{tmp}/rep"], "',,': an empty item in a comma-separated list"),
    (R2 + ["--designs", "array,"], "'array,': an empty item in a comma-separated list"),
    (R2 + ["--seeds", ""], "run: argument --seeds/--seed: an empty value"),
    (["compare", "--seeds", "", "--output", "{tmp}/rep"], "compare: argument --seeds/--seed: an empty value"),
    (R2 + ["--seeds", "1,,2"], "an empty item in a comma-separated list"),
    (R2 + ["--kernel", ""], "run: argument --kernel: an empty value"),
    (R2 + ["--config", ""], "run: argument --config: an empty value"),
    (R2 + ["--config", "PREEMPT_RT,"], "argument --config: 'PREEMPT_RT,': an empty item"),
    (["compare", "--config", "", "--output", "{tmp}/rep"], "compare: argument --config: an empty value"),
    (R2 + ["--profile", ""], "run: argument --profile: an empty value"),
    (R2 + ["--plugin", ""], "run: argument --plugin: an empty value"),
    (R2 + ["--param", "bulk=8,"], "--param 'bulk=8,': expected key=value[,value...] (no empty value)"),
    (R2 + ["--param", ""], "run: argument --param: an empty value"),
    (["run", "--design", "array", "--workload", ""], "run: argument --workload/--workloads: an empty value"),
    (["compare", "--workloads", ",page_bench04", "--output", "{tmp}/rep"], "an empty item in a comma-separated"),
    (["report", ""], "report: argument RESULT.json|DIR: an empty value"),
    (["explore", "--design", ""], "explore: argument --designs/--design: an empty value"),
    (["new-plugin", "", "--dir", "{tmp}"], "new-plugin: argument name: an empty value"),
    (["calibrate", "--fit", "page_access,,data_access", "--output", "{tmp}/p.toml"], "an empty item"),
    (["calibrate", "--output", ""], "calibrate: argument --output: an empty value"),
    (["trace", "summary", "{tmp}/none.npz", "--gap-us", "nan"], "argument --gap-us: 'nan' is not a finite number"),
    (["trace", "summary", "{tmp}/none.npz", "--gap-us", "inf"], "argument --gap-us: 'inf' is not a finite number"),
    (["validate", "--tolerance", "nan"], "validate: argument --tolerance: 'nan' is not a finite number"),
    (["validate", "--tolerance", "inf"], "validate: argument --tolerance: 'inf' is not a finite number"),
    (["history", "--factor", "nan"], "history: argument --factor: 'nan' is not a finite number"),
    (PERF + ["--min-share", "nan"], "perf: argument --min-share: 'nan' is not a finite number"),
    (R2 + ["--jobs", ""], "run: argument --jobs: an empty value"),
    (R2 + ["--jobs", "0"], "--jobs must be at least 1, not 0"),
    (["sweep", "{tmp}/ok.toml", *SW, "--jobs", "0"], "--jobs must be at least 1, not 0"),
    (["run", "--design", "array", "--workload", "page_pool", "--param", "remote_free=nan"],
     "parameter remote_free='nan' is not a finite number"),
    (["run", "--design", "array", "--workload", "trace", "--param", "gap_us=inf"], "gap_us='inf' is not a finite"),
    (["sweep", "{tmp}/s_kernel.toml", *SW], "unknown kernel ''"),
    (["sweep", "{tmp}/s_profile.toml", *SW], "[sweep] profile must be a profile's name or file"),
    (["sweep", "{tmp}/s_config.toml", *SW], "kernel config '': an empty option name"),
    (["sweep", "{tmp}/s_output.toml"], "[sweep] output must be a directory's path"),
    (["sweep", "{tmp}/s_nan.toml", *SW], "parameter remote_free=nan is not a finite number"),
    (["sweep", "{tmp}/s_inf.toml", *SW], "parameter remote_free=inf is not a finite number"),
    # -- paths in a spec are relative to its folder (the profile file beside the spec, not in the working dir) -----
    (["sweep", "{tmp}/s_proffile.toml", *SW], "profile {tmp}/typed.toml: cost irq_save_restore must be"),
    # -- a scheduler that is not Dask, TLS without files: the same one line for run, compare, sweep and the soak ----
    (R2 + ["--scheduler", "tcp://127.0.0.1:{banner}"], "not a Dask scheduler (it answered b'SSH-2.0-'"),
    (R2 + ["--scheduler", "tcp://127.0.0.1:{silent}"], "cannot connect: no Dask handshake within 1s"),
    (CMP + ["--scheduler", "tcp://127.0.0.1:{banner}"], "not a Dask scheduler"),
    (["sweep", "{tmp}/ok.toml", *SW, "--scheduler", "tcp://127.0.0.1:{banner}"], "not a Dask scheduler"),
    (["soak", "--designs", "array", "--scheduler", "tls://127.0.0.1:9"], "tls:// needs --tls-ca-file, --tls-cert"),
    (["soak", "--designs", "array", "--scheduler", "tcp://127.0.0.1:{banner}", "--sequences", "1"],
     "not a Dask scheduler"),
    (["soak", "--designs", "array", "--tls-cert", "{tmp}/ok.csv"], "need a --scheduler tls://HOST:PORT"),
    (["soak", "--designs", "array", "--scheduler", "tls://127.0.0.1:9", "--tls-ca-file", "{tmp}/none.pem"],
     "--tls-ca-file {tmp}/none.pem: no such file"),
    (R2 + ["--scheduler", "tls://127.0.0.1:9", "--tls-ca-file", "{tmp}/pemdir", "--tls-cert", "{tmp}/pemdir"],
     "--tls-ca-file {tmp}/pemdir: not a regular file"),
    (["soak", "--designs", ",,"], "--designs ',,': an empty item in a comma-separated list"),
    (["soak", "--minutes", "nan"], "--minutes must be a positive number, not nan"),
    (["soak", "--jobs", "x"], "argument --jobs: invalid int value: 'x'"),
]


#: what a file of the round points to, made with it
NEEDS = {"fifo_link": "fifo", "adir_link": "adir", "ppath.csv": "typed.toml", "s_proffile.toml": "typed.toml"}


def _case(c):
    argv, expect = c[0], c[1]
    hold, needle = expect if isinstance(expect, tuple) else (None, expect)
    return argv, needle, c[2] if len(c) > 2 else 2, hold


@pytest.fixture(scope="module")
def servers():
    """Ports of two servers that are not Dask schedulers: one that greets like SSH, one that never speaks."""
    import socket
    import threading

    def serve(greeting):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        held = []

        def loop():
            while True:
                conn, _ = s.accept()
                held.append(conn)
                if greeting:
                    conn.sendall(greeting)

        threading.Thread(target=loop, daemon=True).start()
        return s.getsockname()[1]

    return {"banner": serve(b"SSH-2.0-OpenSSH_9.6\r\n"), "silent": serve(b"")}


def _entries(root: Path) -> dict[str, object]:
    """Every entry under ``root`` as it is: a file's bytes, a link's target, a FIFO, a directory (not followed)."""
    import os
    import stat

    out: dict[str, object] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            p = Path(folder) / name
            mode = os.lstat(p).st_mode
            out[str(p)] = (os.readlink(p) if stat.S_ISLNK(mode) else p.read_bytes() if stat.S_ISREG(mode)
                           else stat.S_IFMT(mode))
    return out


@pytest.mark.parametrize("argv, needle, status, hold", [_case(c) for c in ROUND2],
                         ids=[f"r2-{i:03d}-{_case(c)[1][:28]}" for i, c in enumerate(ROUND2)])
def test_bad_input_second_round(argv, needle, status, hold, tmp_path, capsys, monkeypatch, servers):
    import os
    import stat

    from benchframe.io import OutputLock
    from benchframe.testing.soak import main as soak

    monkeypatch.setattr("benchframe.remote.DASK_CONNECT_TIMEOUT", "1s")
    subs = {"{tmp}": str(tmp_path), "{name}": tmp_path.name, "{banner}": str(servers["banner"]),
            "{silent}": str(servers["silent"])}

    def sub(text):
        for key, value in subs.items():
            text = text.replace(key, value)
        return text

    argv, needle = [sub(a) for a in argv], sub(needle)
    named = {a.split(str(tmp_path) + "/", 1)[1].split("/")[0] for a in argv if str(tmp_path) + "/" in a}
    named |= {needs for name, needs in NEEDS.items() if name in named}
    for name, make in files2(tmp_path).items():
        if name in named:
            make(tmp_path / name) if callable(make) else (tmp_path / name).write_text(make)
    (tmp_path / "results.json").write_text('{"runs": []}\n')  # earlier results and an earlier report: kept
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "comparison.md").write_text("the earlier report\n")
    (tmp_path / "ok.toml").write_text(SWEEP)
    before = _entries(tmp_path)
    lock = None
    if hold:  # another benchframe writing there
        lock = (OutputLock.inside(tmp_path / hold.rstrip("/"), "--output") if hold.endswith("/")
                else OutputLock.beside(tmp_path / hold, "--output"))
        lock.acquire()
    try:
        got = soak(argv[1:]) if argv[0] == "soak" else main(argv)
    finally:
        if lock:
            lock.release()
    err = capsys.readouterr().err
    prefix = "soak: error:" if argv[0] == "soak" else "benchframe: error:" if status else "benchframe: warning:"
    assert got == status, err
    assert err.count("\n") == 1 and err.startswith(prefix) and needle in err and "Traceback" not in err, err
    if status:
        assert _entries(tmp_path) == before  # nothing written, replaced or lost
    for device in ("/dev/full", "/dev/null", "/dev/zero"):
        assert stat.S_ISCHR(os.stat(device).st_mode)


def test_the_second_round_covers_every_command_and_input_file():
    assert len(ROUND2) >= 80
    commands = {c[0][0] if c[0][0] != "trace" else f"trace {c[0][1]}" for c in ROUND2}
    assert {"run", "perf", "explore", "compare", "report", "sweep", "validate", "calibrate", "history",
            "trace import", "trace summary", "new-plugin", "soak"} <= commands
