"""``nalm explain RUN_ID``: the simplest formula a stored run's network computes, and whether it is the target."""
from __future__ import annotations

from pathlib import Path

from .common import add_importable_units_option, add_results_option


def add_parser(sub) -> None:
    p = sub.add_parser("explain", help="the simplest formula a stored run computes, checked against its target",
                       description="Read back the simplest formula a stored run's network computes, and check it "
                                   "against the run's target on fresh samples. A run's id is in its report's tables.",
                       epilog="examples:\n  nalm explain 12\n  nalm explain 40 --units myunit:MyUnit   "
                              "a run of a unit of your own (PYTHONPATH=.)")
    p.add_argument("run_id", type=int, metavar="RUN_ID", help="a run id of the results store")
    add_importable_units_option(p)
    add_results_option(p)


def explain_run(results: str, run_id: int):
    """A stored run's formula read back, as its experiment reads it
    (:meth:`~nalm.experiments.spec.Workload.explain`): ``str`` of it is what ``nalm explain`` prints."""
    from ..experiments import EXPERIMENTS
    from ..experiments.arithmetic import explain_run as explain_arithmetic_run
    from ..results import ResultsStore

    if not Path(results).exists():
        raise ValueError(f"no results store at {results}")
    with ResultsStore(results, readonly=True) as store:
        run = store.get(run_id)  # KeyError naming the id if absent
    warn_changed_units(run)
    if run.experiment not in EXPERIMENTS:  # an experiment made in Python: read as arithmetic tasks, from the run's config
        return explain_arithmetic_run(run)
    return EXPERIMENTS[run.experiment].workload.explain(run)


def warn_changed_units(run) -> None:
    """Warn where a unit from outside nalm has changed since ``run`` trained it: its stored weights
    are read into the code as it is now, which may compute something else."""
    from ..errors import warn
    from ..units.custom import changed_units

    for name in changed_units(run.config):
        trained = (run.config["custom_units"][name].get("source_sha256") or "unknown")[:8]
        warn(f"run {run.run_id} was trained with version {trained} of {name}, whose source has changed since: its "
             "weights are read into the code as it is now, so the formula may not be the trained network's")


def main(args) -> int:
    from ..units.custom import importing_only

    with importing_only(args.units):
        print(explain_run(args.results, args.run_id))
    return 0
