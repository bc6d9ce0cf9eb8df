"""08-transformers' public ``test_seq2seq_learns_to_reverse`` against the rule-based shortcut
(issue 23).

The test trains the submission's ``Seq2SeqTransformer`` with its ``train_seq2seq``, then the
grader decodes the held-out sequences greedily with its own Seq2SeqTransformer (torch layers)
and the weights the submission trained, loaded by their exact names and shapes. A
``greedy_decode`` that reverses the source by rule, the model ignored, with a ``train_seq2seq``
that does nothing, earned the 4 points while the test decoded with the submission's own
function (a finding of issue 23); here it must earn none: the untrained weights reverse nothing.
"""

from __future__ import annotations

import shutil

from autograder.config import load_course
from autograder.grading import grade_submission
from tests.conftest import REPO

TRANSFORMERS = load_course(REPO).assignment("08-transformers")
REVERSAL_TEST = "test_seq2seq_learns_to_reverse"

#: appended to the reference's transformer.py: no training, and decoding by the task's rule
RULE = '''


def train_seq2seq(model, src, tgt, steps=200, batch_size=64, lr=3e-3, seed=0):
    return [0.0] * steps


def greedy_decode(model, src, max_len, bos_id=BOS, eos_id=EOS):
    out = torch.full((src.shape[0], max_len + 1), PAD, dtype=torch.long)
    out[:, 0] = bos_id
    for i, row in enumerate(src.tolist()):
        digits = row[:row.index(eos_id)] if eos_id in row else row
        out[i, 1:len(digits) + 1] = torch.tensor(digits[::-1], dtype=torch.long)
        out[i, len(digits) + 1] = eos_id
    return out
'''


def rule_based_reversal_result(tmp_path, warm_parent):
    """The graded public reversal test of the reference with ``RULE`` appended."""
    submission = tmp_path / "rule"
    shutil.copytree(TRANSFORMERS.solutions_dir, submission, ignore=shutil.ignore_patterns("__pycache__"))
    module = submission / "transformer.py"
    module.write_text(module.read_text(encoding="utf-8") + RULE, encoding="utf-8")
    result = grade_submission(TRANSFORMERS, submission, parent=warm_parent,
                              pytest_args=("-k", REVERSAL_TEST))
    (test,) = [t for t in result.tests if t.name.endswith(f"::{REVERSAL_TEST}")]
    return test


def test_a_rule_based_decoder_earns_nothing_on_the_reversal_test(tmp_path, warm_parent):
    test = rule_based_reversal_result(tmp_path, warm_parent)
    assert test.status == "failed" and test.score == 0, (test.status, test.score)
