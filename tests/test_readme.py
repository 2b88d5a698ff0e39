"""The README's promises that code can check."""
import dataclasses
import os
import re

from definitions.config import NetworkConfig
from definitions.registry import get_sequence, network_names, sequence_names

README = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")).read()


def test_liao_cifar_bn_example_runs_verbatim_and_matches_the_shipped_sequence():
    block = next(b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "def liao_cifar_bn" in b)
    namespace = {}
    exec("from layers import *\n" + block, namespace)
    readme_layers = namespace["liao_cifar_bn"](10)
    assert [str(layer) for layer in readme_layers] == [str(layer) for layer in get_sequence("liao_cifar_bn")(10)]


def test_every_network_dict_key_is_documented():
    documented = set(re.findall(r"`([a-z_]+)`", README))
    missing = [f.name for f in dataclasses.fields(NetworkConfig) if f.name != "name" and f.name not in documented]
    assert not missing


def test_every_sequence_and_network_is_named():
    for name in sequence_names() + [n for n in network_names() if not n.startswith("exp_cifar")]:
        assert f"`{name}`" in README, name


def test_the_two_setup_commands():
    assert "make demo" in README and "make test" in README


def test_install_lines_keep_an_editable_install_and_leave_the_benchmarks_out():
    """`pip install '.[extra]'` replaced `make demo`'s editable install with a copy (issue "A
    researcher's day", item 17): every extra is installed with -e, and benchmarks/ (scripts run
    from the checkout, writing its benchmarks/results/) is no package of the distribution."""
    import configparser
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    readme = open(os.path.join(here, os.pardir, "README.md"), encoding="utf-8").read()
    extras = re.findall(r"pip install (-e )?['\"]\.\[", readme)
    assert extras and all(editable for editable in extras)
    setup = configparser.ConfigParser()
    setup.read(os.path.join(here, os.pardir, "setup.cfg"))
    included = setup["options.packages.find"]["include"].split()
    assert "benchmarks*" not in included and "training*" in included
