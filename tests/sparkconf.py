"""The Spark settings of the tests' one local session (tests/conftest.py's ``spark``
fixture), shared by every module that runs queries on Spark.

Spark tests carry ``@pytest.mark.xdist_group("spark")`` and ``.ci/test`` runs pytest with
``--dist loadgroup``, so under xdist they land on one worker and one JVM serves them
(a JVM's start and warm-up cost more CPU than most of the tests' queries). Drift, the
paired comparison and the fresh-process test of tests/test_spark.py carry :data:`SPARK_B`
instead (a test's own group mark wins over its module's): a second worker and JVM, so
that the Spark tests, the suite's longest group (1,470 s of one worker's test time in a
run at load 17), are two groups of about half that each."""

from __future__ import annotations

import pytest

#: The Spark settings of the session (what a workspace file would give).
MASTER = "local[2]"
#: A short-lived driver JVM: the client compiler only and a serial collector spend less
#: CPU compiling and collecting than the JVM's defaults (C2, parallel G1) over the
#: tests' few minutes (83 s of CPU down to 50 s for a session and two comparisons).
SHORT_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
#: Settings that make a local session faster on tiny data (no code generation to
#: compile, no adaptive re-planning, one shuffle partition, the short-lived JVM): the
#: same answers.
SMALL_DATA = {"spark.sql.codegen.wholeStage": False, "spark.sql.codegen.factoryMode": "NO_CODEGEN",
              "spark.sql.adaptive.enabled": False, "spark.sql.shuffle.partitions": 1,
              "spark.driver.extraJavaOptions": SHORT_JVM}

#: What a Spark test module sets as ``pytestmark`` (with its other marks).
SPARK_MARKS = [pytest.mark.slow, pytest.mark.xdist_group("spark")]
#: The second Spark group (its own worker and JVM), for the tests that carry it.
SPARK_B = pytest.mark.xdist_group("spark-b")
