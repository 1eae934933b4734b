import optuna
import pytest

from lensml.tuning import create_study, make_storage, optimize, redact


def test_default_storage_is_a_sqlite_file_next_to_results(tmp_path):
    path = tmp_path / "results" / "study.db"
    storage = make_storage(None, default_path=path, heartbeat_interval=5)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert path.exists()
    assert storage.get_heartbeat_interval() == 5


def test_journal_storage(tmp_path):
    storage = make_storage(f"journal:{tmp_path / 'j.log'}")
    assert isinstance(storage, optuna.storages.JournalStorage)
    study = create_study("j", storage, ["minimize"], pruner="none")
    assert optimize(study, lambda t: t.suggest_float("x", 0, 1), 2) == 2


@pytest.mark.parametrize(
    "url, match",
    [
        ("sqlite:////nonexistent-dir/deeper/study.db", "unreachable or invalid"),
        ("postgresql://user:secret@127.0.0.1:1/db", "unreachable|driver is not installed"),
        ("journal:/nonexistent-dir/deeper/study.log", "does not exist"),
        ("not a url", "not a storage URL"),
        ("nosuchdb://x/y", "unreachable or invalid"),
    ],
)
def test_unreachable_storage_is_a_clear_error(url, match):
    with pytest.raises(ValueError, match=match) as info:
        make_storage(url)
    assert "secret" not in str(info.value)


def test_redact_hides_passwords():
    assert "secret" not in redact("postgresql://me:secret@db.example/optuna")


@pytest.mark.parametrize("text, shown", [
    ("postgresql://u@h/db?password=S3CRET", "postgresql://u@h/db?password=***"),
    ("postgresql://u:SEC@RET@h:5432/db", "postgresql://u:***@h:5432/db"),  # "@" inside the password
    ("postgresql://u:a:b/c@h/db", "postgresql://u:***@h/db"),
    ("mysql://u:p@h/db?sslpassword=zz&x=1&token=abc", "mysql://u:***@h/db?sslpassword=***&x=1&token=***"),
    ("storage 'postgresql+psycopg://lensml:pw@127.0.0.1:5/x' is unreachable",
     "storage 'postgresql+psycopg://lensml:***@127.0.0.1:5/x' is unreachable"),
    ("sqlite:////tmp/study.db", "sqlite:////tmp/study.db"),
])
def test_redact_every_credential_form(text, shown):
    assert redact(text) == shown


def test_storage_url_and_password_from_the_environment_or_a_file(tmp_path, monkeypatch):
    from lensml.tuning.storage import resolve_storage_url

    monkeypatch.setenv("LENSML_STORAGE_PASSWORD", "p@ss word")
    assert resolve_storage_url("postgresql://u@h/db") == "postgresql://u:p%40ss%20word@h/db"
    assert redact("it failed: p@ss word") == "it failed: ***"  # a LENSML_* secret is never printed
    monkeypatch.setenv("MY_STUDY_URL", "sqlite:///" + str(tmp_path / "s.db"))
    assert resolve_storage_url("env:MY_STUDY_URL") == "sqlite:///" + str(tmp_path / "s.db")
    (tmp_path / "url.txt").write_text("journal:" + str(tmp_path / "s.log") + "\n")
    assert resolve_storage_url(f"file:{tmp_path / 'url.txt'}") == "journal:" + str(tmp_path / "s.log")
    with pytest.raises(ValueError, match="environment variable NOPE_URL is not set"):
        resolve_storage_url("env:NOPE_URL")
    with pytest.raises(ValueError, match="cannot read a storage URL"):
        resolve_storage_url(f"file:{tmp_path / 'missing.txt'}")


def test_existing_study_with_other_directions_is_refused(tmp_path):
    storage = make_storage(f"journal:{tmp_path / 's.log'}")
    create_study("s", storage, ["maximize"])
    with pytest.raises(ValueError, match="already exists with directions"):
        create_study("s", storage, ["minimize"])


def test_optimize_counts_trials_across_calls(tmp_path):
    storage = make_storage(f"journal:{tmp_path / 's.log'}")
    study = create_study("s", storage, ["minimize"], sampler="random")
    assert optimize(study, lambda t: t.suggest_float("x", 0, 1), 3) == 3
    assert optimize(study, lambda t: t.suggest_float("x", 0, 1), 3) == 0
    assert optimize(study, lambda t: t.suggest_float("x", 0, 1), 4) == 1
    with pytest.raises(ValueError, match="n_trials"):
        optimize(study, lambda t: 0.0, 0)


def test_multi_objective_disables_pruning(tmp_path):
    storage = make_storage(f"journal:{tmp_path / 's.log'}")
    study = create_study("m", storage, ["maximize", "minimize"], pruner="median")
    assert isinstance(study.pruner, optuna.pruners.NopPruner)


def test_bad_pruner_sampler_direction_names(tmp_path):
    storage = make_storage(f"journal:{tmp_path / 's.log'}")
    with pytest.raises(ValueError, match="pruner"):
        create_study("a", storage, ["maximize"], pruner="sometimes")
    with pytest.raises(ValueError, match="sampler"):
        create_study("a", storage, ["maximize"], sampler="grid-ish")
    with pytest.raises(ValueError, match="directions"):
        create_study("a", storage, ["up"])


def test_storage_that_is_not_an_optuna_database_is_refused(tmp_path):
    """Another program's SQLite database, a file that is not SQLite and a journal Optuna did not
    write: each a ValueError naming the file and what to do; the other database is left untouched."""
    import sqlite3

    other = tmp_path / "inventory.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE parts (id INTEGER)")
    before = other.read_bytes()
    with pytest.raises(ValueError, match=r"inventory.db.*something else \(tables: parts\).*new file"):
        make_storage(f"sqlite:///{other}")
    assert other.read_bytes() == before
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 200)
    with pytest.raises(ValueError, match=r"notes.db.*not a SQLite database"):
        make_storage(f"sqlite:///{text}")
    journal = tmp_path / "notes.log"
    journal.write_text("hello\n")
    with pytest.raises(ValueError, match=r"notes.log.*not an Optuna journal"):
        make_storage(f"journal:{journal}")
    # an Optuna database and a fresh path still open
    make_storage(f"sqlite:///{tmp_path / 'fresh.db'}")
    make_storage(f"sqlite:///{tmp_path / 'fresh.db'}")
    make_storage(f"journal:{tmp_path / 'fresh.log'}")


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_storage_of_a_study(tmp_path, kind):
    # Pins the Optuna internals lensml.tuning.budget reads (Study._storage, _CachedStorage._backend):
    # the budget lock and the heartbeat interval live on the storage lensml made.
    from lensml.tuning.budget import NoTrialLeft, heartbeat_interval, queue_trials, storage_of

    url = f"sqlite:///{tmp_path / 's.db'}" if kind == "sqlite" else f"journal:{tmp_path / 's.log'}"
    storage = make_storage(url, heartbeat_interval=7)
    study = create_study("pinned", storage, ["minimize"], sampler="random", pruner="none")
    assert storage_of(study) is storage
    assert storage_of(optuna.load_study(study_name="pinned", storage=storage)) is storage
    assert heartbeat_interval(storage) == 7
    study.ask()  # before the budget is queued, ask() creates trials as Optuna does
    assert queue_trials(study, 3) == 2  # the running trial holds one of the 3
    assert queue_trials(study, 3) == 0
    assert study.ask().number == 1  # pops the queue, in order
    study.ask()
    with pytest.raises(NoTrialLeft, match="no queued trial left"):
        study.ask()
    assert len(study.trials) == 3


def test_two_workers_on_one_sqlite_file_cannot_pop_the_same_queued_trial(tmp_path, monkeypatch):
    """The race seen in CI, made to happen: worker A reads a queued trial as WAITING, worker B
    pops it before A writes. Optuna's read-then-write let both pop it (both ran the trial and
    the second failed with "Cannot tell a COMPLETE trial"); exactly one pop may succeed."""
    from optuna.storages._rdb import models

    url = f"sqlite:///{tmp_path / 'race.db'}"
    a, b = make_storage(url, heartbeat_interval=None), make_storage(url, heartbeat_interval=None)
    study = create_study("race", a, ["minimize"], sampler="random", pruner="none")
    study.enqueue_trial({"x": 0.5})
    trial_id = study.get_trials(deepcopy=False)[0]._trial_id
    pops, armed = [], [True]
    read = models.TrialModel.find_or_raise_by_id.__func__

    def read_then_b_pops(cls, *args, **kwargs):
        found = read(cls, *args, **kwargs)
        if armed[0] and found.state == optuna.trial.TrialState.WAITING:
            armed[0] = False  # A read the trial as queued: B pops it before A writes
            pops.append(b.set_trial_state_values(trial_id, optuna.trial.TrialState.RUNNING))
        return found

    monkeypatch.setattr(models.TrialModel, "find_or_raise_by_id", classmethod(read_then_b_pops))
    pops.append(a.set_trial_state_values(trial_id, optuna.trial.TrialState.RUNNING))
    if len(pops) == 1:  # A popped without reading first: B's pop comes after it
        pops.append(b.set_trial_state_values(trial_id, optuna.trial.TrialState.RUNNING))
    assert sorted(pops) == [False, True]
    assert a.get_trial(trial_id).state == optuna.trial.TrialState.RUNNING
    # a finished trial still cannot be popped (Optuna's error)
    a.set_trial_state_values(trial_id, optuna.trial.TrialState.COMPLETE, [0.25])
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        b.set_trial_state_values(trial_id, optuna.trial.TrialState.RUNNING)
