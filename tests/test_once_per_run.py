"""``once_per_run``: one build per run, however many processes ask."""
import threading
import time

import pytest

from once_per_run import once_per_run


def test_concurrent_callers_share_one_build(tmp_path):
    """Four callers at once (threads: each opens its own lock file
    description, which ``flock`` treats as separate owners, as it does
    xdist workers): one build; every caller returns after it finished."""
    builds, results = [], []

    def build(folder):
        builds.append(folder)
        time.sleep(0.3)
        (folder / 'result').write_text('built')

    def call():
        folder = once_per_run(tmp_path, 'work', build)
        results.append((folder / 'result').read_text())

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [tmp_path / 'work']
    assert results == ['built'] * 4


def test_a_failed_build_is_started_again(tmp_path):
    def fail(folder):
        (folder / 'partial').write_text('')
        raise RuntimeError('training failed')

    with pytest.raises(RuntimeError, match='training failed'):
        once_per_run(tmp_path, 'work', fail)
    folder = once_per_run(tmp_path, 'work',
                          lambda f: (f / 'result').write_text('built'))
    assert sorted(p.name for p in folder.iterdir()) == ['result']
