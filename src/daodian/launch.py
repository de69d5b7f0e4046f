"""The `daodian` command's entry point.

prometheus-client decides once, when it is imported, whether metrics live in this process's memory or in files
that several processes add up (multiprocess mode, PROMETHEUS_MULTIPROC_DIR): a metric made before the variable
is set keeps counting in memory. The CLI's own imports load it (the routes' modules make their metrics), so
`daodian serve` could not switch it on itself: every worker counted in memory and /metrics, reading the files,
answered an empty page. `serve` is therefore chosen here, before anything of daodian's is imported (this
module sits outside daodian.cli, whose package imports everything). One process counts in the files too (one
more small write per observation), so /metrics reads alike however many serve.
"""

import os
import shutil
import sys
from pathlib import Path

from daodian.kit.settings import PROJECT_ROOT  # pydantic's settings only: prometheus-client is not imported yet

METRICS_FOLDER = PROJECT_ROOT / "var" / "prometheus"


def share_metrics(folder: Path = METRICS_FOLDER) -> None:
    """prometheus-client's multiprocess mode, in a folder emptied at each start (a dead process's files would
    otherwise keep adding to the sums)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def main() -> None:
    if sys.argv[1:2] == ["serve"] and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        share_metrics()
    from daodian.cli import app  # noqa: PLC0415  (after the choice above, by design)

    app()
