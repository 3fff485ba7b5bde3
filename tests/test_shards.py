"""The shard split: every feature in exactly one shard, the same split whatever the order,
balanced by recorded durations; and merging shards' reports."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from interlock._core.errors import InterlockError
from interlock._core.shards import Durations, Shard, merge_reports, shard_features, split


def test_every_feature_is_in_exactly_one_shard_for_any_count() -> None:
    weights = {f"features/f{i:02}.feature": float(i % 7 + 1) for i in range(23)}
    for count in range(1, 8):
        groups = split(weights, count)
        assert len(groups) == count
        together = list(itertools.chain.from_iterable(groups))
        assert sorted(together) == sorted(weights)


def test_the_split_is_the_same_whatever_order_the_features_come_in() -> None:
    weights = {f"f{i}.feature": float((i * 37) % 11) for i in range(15)}
    first = split(weights, 3)
    names = list(weights)
    for seed in range(5):
        random.Random(seed).shuffle(names)
        assert split({n: weights[n] for n in names}, 3) == first


def test_recorded_durations_balance_the_shards() -> None:
    scenarios = {"slow.feature": 1, "a.feature": 4, "b.feature": 4, "c.feature": 4}
    by_count = Durations(Path("none.json"))
    assert shard_features(scenarios, Shard(1, 2), by_count) != ["slow.feature"]
    timed = Durations(Path("d.json"), {"slow.feature": 30.0, "a.feature": 9.0,
                                       "b.feature": 10.0, "c.feature": 11.0})
    assert shard_features(scenarios, Shard(1, 2), timed) == ["slow.feature"]
    assert shard_features(scenarios, Shard(2, 2), timed) == ["a.feature", "b.feature",
                                                            "c.feature"]


def test_greedy_split_is_within_the_heaviest_feature_of_perfect() -> None:
    rng = random.Random(7)
    weights = {f"f{i}": rng.uniform(0.1, 20.0) for i in range(40)}
    for count in (2, 3, 4):
        totals = [sum(weights[n] for n in g) for g in split(weights, count)]
        assert max(totals) - min(totals) <= max(weights.values())


def test_a_feature_without_a_record_weighs_its_scenarios_at_the_recorded_rate() -> None:
    durations = Durations(Path("d.json"), {"old.feature": 10.0})
    assert durations.weights({"old.feature": 5, "new.feature": 3}) == {
        "old.feature": 10.0, "new.feature": 6.0}


def test_durations_survive_a_round_trip_and_a_bad_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "durations.json"
    durations = Durations.load(path)
    durations.update({"b.feature": 2.34567, "a.feature": 1.0})
    durations.save()
    assert Durations.load(path).seconds == {"a.feature": 1.0, "b.feature": 2.346}
    path.write_text("{not json")
    assert Durations.load(path).seconds == {}


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", ""])
def test_a_wrong_shard_says_what_and_how(text: str) -> None:
    with pytest.raises(InterlockError) as caught:
        Shard.parse(text, "-D interlock.shard")
    message = str(caught.value)
    assert f'-D interlock.shard="{text}" is not a shard' in message
    assert "1 <= i <= n" in message


def test_merging_keeps_each_features_newest_record_not_the_last_shards(
        tmp_path: Path) -> None:
    # Each shard starts from the same restored file and re-times only its own features: the
    # second shard's stale record of the first shard's feature must not win.
    restored = {"a": 5.0, "b": 5.0}
    for name, fresh in (("one", {"a": 1.0}), ("two", {"b": 2.0})):
        durations = Durations(tmp_path / name / "durations.json")
        durations.update(restored, when=100.0)
        durations.update(fresh, when=200.0)
        durations.save()
    merge_reports([tmp_path / "one", tmp_path / "two"], tmp_path / "merged")
    assert Durations.load(tmp_path / "merged" / "durations.json").seconds == {"a": 1.0, "b": 2.0}


def _shard_folder(root: Path, name: str, uuid: str, feature: str, seconds: float) -> Path:
    folder = root / name
    (folder / "allure-results").mkdir(parents=True)
    (folder / "allure-results" / f"{uuid}-result.json").write_text('{"name": "x"}')
    (folder / "allure-results" / "environment.properties").write_text(f"interlock.run={name}")
    (folder / "junit").mkdir()
    (folder / "junit" / f"TESTS-{feature}.xml").write_text("<testsuite/>")
    (folder / "durations.json").write_text(json.dumps({"features": {feature: seconds}}))
    return folder


def test_merging_copies_every_shard_and_joins_durations(tmp_path: Path) -> None:
    one = _shard_folder(tmp_path, "one", "0b7c8a52-44ee-4e1f-9a57-0a3b1c2d3e4f", "a", 1.0)
    two = _shard_folder(tmp_path, "two", "1b7c8a52-44ee-4e1f-9a57-0a3b1c2d3e4f", "b", 2.0)
    into = tmp_path / "merged"
    counts = merge_reports([one, two], into)
    assert counts == {"allure-results": 3, "junit": 2, "durations.json": 2}
    assert len(list((into / "allure-results").glob("*-result.json"))) == 2
    assert (into / "allure-results" / "environment.properties").read_text() == \
        "interlock.run=one"
    assert Durations.load(into / "durations.json").seconds == {"a": 1.0, "b": 2.0}


def test_two_different_results_of_one_name_are_an_error(tmp_path: Path) -> None:
    uuid = "0b7c8a52-44ee-4e1f-9a57-0a3b1c2d3e4f"
    one = _shard_folder(tmp_path, "one", uuid, "a", 1.0)
    two = _shard_folder(tmp_path, "two", uuid, "b", 2.0)
    (two / "allure-results" / f"{uuid}-result.json").write_text('{"name": "other"}')
    with pytest.raises(InterlockError, match="Two shards wrote different files named"):
        merge_reports([one, two], tmp_path / "merged")


def test_the_documented_workflow_runs_every_shard_and_merges_them() -> None:
    import yaml

    workflow = yaml.safe_load((Path(__file__).parents[1] / "docs/ci/github-actions.yml")
                              .read_text())
    shards = int(workflow["env"]["SHARDS"])
    shard_job, report_job = workflow["jobs"]["shard"], workflow["jobs"]["report"]
    assert shard_job["strategy"]["matrix"]["shard"] == list(range(1, shards + 1))
    assert shard_job["env"]["INTERLOCK_SHARD"].endswith(f"/{shards}")
    for index in range(1, shards + 1):  # what each machine's variable says is a shard
        Shard.parse(shard_job["env"]["INTERLOCK_SHARD"].replace(
            "${{ matrix.shard }}", str(index)))
    runs = [step.get("run", "") for step in shard_job["steps"]]
    assert "behave" in runs
    merging = [step["run"] for step in report_job["steps"] if "interlock merge" in
               step.get("run", "")]
    assert merging == ["interlock merge shards/interlock-shard-* --into reports"]
    assert report_job["needs"] == "shard" and report_job["if"] == "always()"


def test_two_workers_saving_durations_keep_each_others_records(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "durations.json"
    first, second = Durations.load(path), Durations.load(path)  # both read before either saves
    first.update({"a.feature": 1.0})
    second.update({"b.feature": 2.0})
    first.save()
    second.save()
    assert Durations.load(path).seconds == {"a.feature": 1.0, "b.feature": 2.0}
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".")) == [
        "durations.json"]


def test_the_cpu_is_kept_with_its_record_and_the_last_known_when_not_measured(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    durations = Durations.load(path)
    durations.update({"a.feature": 1.0, "b.feature": 2.0}, when=100.0,
                     cpu={"a.feature": 0.1234, "b.feature": 1.5})
    durations.save()
    again = Durations.load(path)
    assert again.cpu == {"a.feature": 0.123, "b.feature": 1.5}
    assert json.loads(path.read_text())["features"]["a.feature"] == {
        "seconds": 1.0, "cpu": 0.123, "recorded": 100}
    # a newer record without the CPU (a run's first feature: not measured) keeps the last
    # CPU known; a newer one with it replaces it; an older one does not
    newer = Durations(tmp_path / "other.json")
    newer.update({"a.feature": 3.0, "b.feature": 2.5}, when=200.0, cpu={"b.feature": 1.0})
    again.join(newer)
    assert again.seconds["a.feature"] == 3.0 and again.cpu == {"a.feature": 0.123,
                                                                "b.feature": 1.0}
    older = Durations(tmp_path / "old.json")
    older.update({"b.feature": 9.0}, when=50.0, cpu={"b.feature": 0.0})
    again.join(older)
    assert again.cpu == {"a.feature": 0.123, "b.feature": 1.0}
    again.update({"a.feature": 2.0}, cpu={})
    assert again.seconds["a.feature"] == 2.0 and again.cpu["a.feature"] == 0.123
    path.write_text('{"features": {"c.feature": {"seconds": 1, "cpu": "lots"}}}')
    assert Durations.load(path).seconds == {"c.feature": 1.0}  # a bad CPU is left out
    assert Durations.load(path).cpu == {}
