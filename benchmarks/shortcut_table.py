"""Every training bar against its obvious shortcut: one row per (assignment, bar), with the graded
test, the bar, the shortcut, the shortcut's score and, where it is cheap, the reference's.

Run:  .venv/bin/python benchmarks/shortcut_table.py [--train]

The figures come from the helpers of the platform's shortcut tests (``tests/test_shortcuts*.py``),
on the graders' own data and seeds; a score over several draws (the public test's seed and
others standing for the hidden test's, per submission) is the one nearest the bar. ``--train``
adds the rows whose figures need a model trained or a submission graded here (06's
encoder-decoder without attention and vanilla RNN, about a minute each; 04's pre-trained
reference, about 12 s; 08's rule-based decoder, graded); without it they read "--train".
"clears" in the last column is a finding: the shortcut passes that bar. A shortcut module that
is missing (07's, while it is written) is named under the table and its rows left out. Prints a
Markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: (assignment, graded test, bar, shortcut, shortcut's score, reference's score, whether the
#: shortcut clears the bar: None where its score was not computed here)
Row = tuple[str, str, str, str, str, str, "bool | None"]


def _shortcut_module(name: str, missing: list[str]):
    """``tests.<name>``, or None (its name added to ``missing``) when it is not there."""
    try:
        return importlib.import_module(f"tests.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"tests.{name}":
            raise
        missing.append(f"tests/{name}.py")
        return None


def classical_rows(train: bool) -> list[Row]:
    c = importlib.import_module("tests.test_shortcuts_classical")
    s = importlib.import_module("tests.test_shortcuts_sequences")
    rows: list[Row] = []
    for test, bar, task, seeds, names in (
            ("hidden test_gmm_classifier_trimodal_classes", c.GMM_BAR, c.alternating_modes_task,
             c.GMM_SEEDS, ("majority class", "logistic regression", "one Gaussian per class")),
            ("hidden test_forest_accuracy", c.FOREST_BAR, c.ball_task, c.FOREST_SEEDS,
             ("majority class", "logistic regression", "one tree (best depth)"))):
        scores = c.shortcut_accuracies(task, seeds)
        for name in names:
            best = max(scores[name])
            above = sum(score >= bar for score in scores[name])
            rows.append(("01", test, f"accuracy >= {bar}", name,
                         f"{best:.3f} (best of {len(seeds)}; {above} at the bar)", "", best >= bar))
    public, hidden = s.hmm_oracles()
    bars = (public.recovery_max_A_error, public.recovery_max_B_error, public.recovery_max_ll_gap)
    draws = [s.baum_welch_scores(public, hidden, seed) for seed in s.RECOVERY_SEEDS]
    # each error at its smallest over the draws, the reference's at its largest
    nearest = {name: [min(d[name][i] for d in draws) for i in range(3)] for name in draws[0]}
    reference = "A {:.3f}, B {:.3f}, gap {:.3f} (graders' EM, worst)".format(
        *[max(d["graders' EM"][i] for d in draws) for i in range(3)])
    for name in ("initial parameters", "unigram emissions"):
        A, B, gap = nearest[name]
        clears = any(all(x <= b for x, b in zip(d[name], bars, strict=True)) for d in draws)
        rows.append(("01", "test_baum_welch_recovers_a_known_hmm, hidden test_baum_welch_heldout",
                     "A err <= {}, B err <= {}, held-out gap <= {}".format(*bars), name,
                     f"A {A:.3f}, B {B:.3f}, gap {gap:.3f} (best of {len(s.RECOVERY_SEEDS)})",
                     reference, clears))
    return rows


def feedforward_rows(train: bool) -> list[Row]:
    f = importlib.import_module("tests.test_shortcuts")
    graders = f._graders_conftest(f.FEEDFORWARD)
    fit, best = f.logistic_regression_scores(graders, f.held_out_digits(graders))
    return [("02", "test_train_digits_accuracy, hidden test_train_digits_heldout",
             f"accuracy >= {graders.DIGITS_BAR}", "logistic regression (tuned)",
             f"{best:.3f} held out ({fit:.3f} on its training digits)", "", best >= graders.DIGITS_BAR),
            ("02", "both digits tests", f"accuracy >= {graders.DIGITS_BAR}",
             "softmax regression; a lookup predict",
             "0 points each (graded as submissions by test_shortcuts.py; not run here)", "", None)]


def autoencoder_rows(train: bool) -> list[Row]:
    a = importlib.import_module("tests.test_shortcuts_autoencoders")
    oracle = a.graders_oracle()
    random_init = [a.pipeline_accuracy(oracle, pretrain=False, seed=s) for s in a.FEW_LABEL_SEEDS]
    reference = f"{a.pipeline_accuracy(oracle, pretrain=True, seed=1):.3f}" if train else "--train"
    logistic = a.logistic_regression_accuracy(oracle)
    pca = a.pca_error_ratio(oracle, 1)
    denoising_pca = a.pca_ratio(oracle.digits()[0][:128], 1)
    layer = min(a.mean_code_ratio(oracle, s) for s in a.LAYER_SEEDS)
    layer_pca = min(a.layer_pca_ratio(oracle, s) for s in a.LAYER_SEEDS)
    test = "test_few_label_accuracy, hidden test_pretraining_beats_random_init"
    bar = a.FEW_LABEL_BAR
    loss, denoising, layer_bar = (f"error < {b} x the mean's" for b in (
        a.LOSS_FALLS_BAR, a.DENOISING_BAR, a.LAYER_BAR))
    return [
        ("04", test, f"accuracy >= {bar}", "random initialization (reference loop)",
         f"{max(random_init):.3f} (best of {len(random_init)} seeds)", reference,
         max(random_init) >= bar),
        ("04", test, f"accuracy >= {bar}", "logistic regression on the 70 labels",
         f"{logistic:.3f}, refused (not the DeepClassifier's names and shapes)", reference, False),
        ("04", "test_train_autoencoder_loss_falls", loss, "the mean digit", "1.000", "", False),
        ("04", "test_train_autoencoder_loss_falls", loss, "PCA, one component", f"{pca:.3f}", "",
         pca < a.LOSS_FALLS_BAR),
        ("04", "hidden test_denoising_history_on_clean_data", denoising, "PCA, one component",
         f"{denoising_pca:.3f}", "", denoising_pca < a.DENOISING_BAR),
        ("04", "test_pretrain_layer_freezes_earlier_layers", layer_bar,
         "decoder outputs the mean code", f"{layer:.3f} (best of {len(a.LAYER_SEEDS)})", "",
         layer < a.LAYER_BAR),
        ("04", "test_pretrain_layer_freezes_earlier_layers", layer_bar,
         "PCA of the codes, one component", f"{layer_pca:.3f} (best of {len(a.LAYER_SEEDS)})", "",
         layer_pca < a.LAYER_BAR)]


def cnn_rows(train: bool) -> list[Row]:
    v = importlib.import_module("tests.test_shortcuts_vision")
    lenet = importlib.import_module("tests.test_shortcuts_lenet")
    graders = v._graders_conftest()
    rows: list[Row] = []
    logistic = lenet.logistic_regression_accuracy(graders)
    bar = graders.Oracle.DIGITS_BAR
    rows.append(("05", "test_lenet_digits_accuracy", f"accuracy >= {bar}", "logistic regression",
                 f"{logistic:.3f}", "", logistic >= bar))
    bar = graders.Oracle.UNET_IOU_BAR
    scores = v.segmentation_shortcut_ious(graders, v.segmentation_draws(graders))
    for name, values in scores.items():
        rows.append(("05", "test_unet_segmentation_iou, hidden test_unet_segmentation_heldout",
                     f"IoU >= {bar}", f"threshold: {name}" if name != "every pixel" else name,
                     f"{max(values):.3f} (best of {len(values)})", "", max(values) >= bar))
    bar = graders.Oracle.SHIFTED_DIGITS_BAR
    best = max(v.shifted_digits_logistic_accuracy(graders, *draw) for draw in v.DIGITS_DRAWS)
    rows.append(("05", "hidden test_shifted_digits_heldout", f"accuracy >= {bar}",
                 "logistic regression", f"{best:.3f} (best of {len(v.DIGITS_DRAWS)})", "", best >= bar))
    return rows


def rnn_rows(train: bool) -> list[Row]:
    s = importlib.import_module("tests.test_shortcuts_sequences")
    oracle = s.load_module(s.RNN.root / "tests" / "conftest.py", "graders_conftest_06").Oracle()
    reversal, rnn, lstm = "--train", "--train", "--train"
    clears: list[bool | None] = [None, None]
    if train:
        with tempfile.TemporaryDirectory() as tmp:
            with_attention, without = s.no_attention_accuracies(Path(tmp) / "a")
            accuracy = s.long_range_accuracies(Path(tmp) / "b")
        reversal = f"{without:.3f} ({with_attention:.3f} decoded with attention)"
        rnn, lstm = f"{accuracy['rnn']:.3f}", f"{accuracy['lstm']:.3f}"
        clears = [without >= oracle.reversal_bar, accuracy["rnn"] >= oracle.long_range_bar]
    return [("06", "test_train_reversal_accuracy, hidden test_train_reversal_heldout",
             f"accuracy >= {oracle.reversal_bar}", "encoder-decoder without attention", reversal, "",
             clears[0]),
            ("06", "test_long_range_lstm_accuracy, hidden test_long_range_lstm_heldout",
             f"accuracy >= {oracle.long_range_bar}", "vanilla RNN", rnn, lstm, clears[1])]


def transformer_rows(train: bool) -> list[Row]:
    t = importlib.import_module("tests.test_shortcuts_text")
    graders = t.text_graders()
    text = graders.read_shakespeare()
    windows = text.gpt_held_out_windows(graders.CHAR_GPT["max_len"]).numpy()
    train_ids, V = text.gpt_train_ids().numpy(), len(text.alphabet)
    rows: list[Row] = []
    bar = graders.CHAR_GPT_BAR
    for order, name in ((2, "bigram model (tuned)"), (3, "trigram model (tuned; the handout says it passes)")):
        loss = t._ngram_loss(train_ids, windows, V, order)
        rows.append(("08", "test_char_gpt_learns_shakespeare", f"held-out loss < {bar} nats", name,
                     f"{loss:.3f}", "", loss < bar))
    bar = graders.BERT_MLM_BAR
    loss = min(t.character_frequency_mlm_loss(graders, text, seed) for seed in range(3))
    rows.append(("08", "hidden test_bert_pretrained_then_finetuned_on_shakespeare (MLM)",
                 f"masked loss < {bar} nats", "character frequency", f"{loss:.3f} (best of 3)", "",
                 loss < bar))
    bar = graders.BERT_ACCURACY_BAR
    bags = [t.bag_accuracies(text, seed) for seed in range(2)]
    for bag, note in (("characters", ""), ("words", " (the handout says it passes)")):
        best = max(b[bag] for b in bags)
        rows.append(("08", "hidden test_bert_pretrained_then_finetuned_on_shakespeare (accuracy)",
                     f"accuracy >= {bar}", f"logistic regression, bag of {bag}{note}",
                     f"{best:.3f} (best of 2)", "", best >= bar))
    return rows


def generative_rows(train: bool) -> list[Row]:
    g = importlib.import_module("tests.test_shortcuts_generative")
    h = importlib.import_module("tests.test_shortcuts_generative_hidden")
    graders = g._graders_conftest(g.GENERATIVE)
    rows: list[Row] = []
    ring = [g.ring_gaussian_scores(graders, seed) for seed in g.DRAWS]
    near, energy = max(r[0] for r in ring), min(r[1] for r in ring)
    rows.append(("09", "test_train_gan_covers_every_mode",
                 f"near a mode >= {graders.RING_NEAR_BAR}, energy <= {graders.RING_ENERGY_BAR}, every mode",
                 "fitted Gaussian", f"near {near:.3f}, energy {energy:.3f} (best of {len(ring)})", "",
                 any(not r[2] for r in ring)))
    judge = graders.DigitJudge(graders.Data())
    digits, _, _ = graders.Data().digit_images()
    problems = [judge.problems(g._gaussian_like(digits, 1000, seed)) for seed in g.DRAWS]
    rows.append(("09", "test_train_dcgan_on_digits", "the digit judge's bars (classes, grey, edges)",
                 "Gaussian over the 64 pixels", f"fails {min(map(len, problems))}+ of its criteria", "",
                 any(not p for p in problems)))
    moons = [g.moons_gaussian_scores(graders, seed) for seed in g.DRAWS]
    best = max(m[0] for m in moons)
    rows.append(("09", "test_train_diffusion_on_two_moons",
                 f"near the moons >= {graders.DIFFUSION_NEAR_BAR}, energy <= {graders.DIFFUSION_ENERGY_BAR}",
                 "fitted Gaussian", f"near {best:.3f} (best of {len(moons)})", "", any(not m[1] for m in moons)))
    loss = g.independent_pixels_vae_loss(graders)
    bar = graders.Oracle().VAE_HELD_OUT_BAR
    rows.append(("09", "test_train_vae_on_digits", f"held-out negative ELBO < {bar}",
                 "independent pixels", f"{loss:.2f}", "", loss < bar))
    ll = max(h.independent_pixels_log_likelihood(graders, seed) for seed in h.RBM_SEEDS)
    reference = min(h.reference_rbm_log_likelihood(graders, seed) for seed in h.RBM_SEEDS)
    rows.append(("09", "hidden test_train_rbm_raises_the_exact_likelihood", f"log-likelihood > {h.RBM_BAR}",
                 "independent pixels (W = 0)", f"{ll:.3f} (best of {len(h.RBM_SEEDS)})",
                 f"{reference:.3f} (worst)", ll > h.RBM_BAR))
    share = max(h.label_blind_share(graders, seed) for seed in range(3))
    rows.append(("09", "hidden test_conditional_gan_generates_the_asked_mode",
                 f"at the label's mode >= {h.CONDITIONAL_BAR}", "label-blind (the real ring)",
                 f"{share:.3f} (best of 3)", "", share >= h.CONDITIONAL_BAR))
    return rows


def reversal_transformer_rows(train: bool) -> list[Row]:
    r = importlib.import_module("tests.test_shortcuts_transformer_reversal")
    score, clears = "--train", None
    if train:
        from autograder.sandbox.fork_backend import WarmParent

        parent = WarmParent()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                test = r.rule_based_reversal_result(Path(tmp), parent)
        finally:
            parent.close()
        score, clears = f"{test.status}, {test.score:g} points (graded)", test.score > 0
    return [("08", "test_seq2seq_learns_to_reverse", "exact match >= 0.9",
             "no training, greedy_decode by the rule", score, "", clears)]


def planted_corpus_rows(train: bool) -> list[Row]:
    p = importlib.import_module("tests.test_shortcuts_planted_corpus")
    oracle = p.graders_oracle()
    rows: list[Row] = []
    for test, args in p.PLANTED_TESTS.items():
        found = p.svd_synonyms_found(oracle, *args)
        path, name = test.split("::")
        rows.append(("07", name if path.startswith("public/") else f"hidden {name}",
                     "16 of 16 synonyms nearest", f"rank-{args[2]} SVD of log co-occurrences, no training",
                     f"{found} of 16", "", found == 16))
    return rows


def embedding_rows(module) -> list[Row]:
    """07's shortcut module keeps its figures inside its tests: the rows say which test asserts
    the shortcut's miss, and run it."""
    graders = module.load_module(module.EMBEDDINGS.root / "tests" / "conftest.py", "graders_conftest_07")
    module.test_frequency_and_random_vectors_stay_below_the_cbow_bar(graders, graders.read_shakespeare())
    return [("07", "test_train_cbow_shakespeare, hidden test_train_cbow_shakespeare_heldout", f"accuracy >= {graders.CBOW_BAR}",
             "frequency alone; random vectors",
             f"below the bar by {module.MARGIN['cbow']}+ (asserted, ran)", "", False),
            ("07", "test_train_fasttext_unseen_words, hidden ..._other_seed", f"found >= {graders.FASTTEXT_BAR}",
             "no n-grams; untrained n-grams", f"below by {module.MARGIN['fasttext']}+ (asserted, not run: "
             "needs the reference's training)", "", None)]


SECTIONS: tuple[tuple[str, Callable[[bool], list[Row]]], ...] = (
    ("test_shortcuts_classical", classical_rows), ("test_shortcuts", feedforward_rows),
    ("test_shortcuts_autoencoders", autoencoder_rows), ("test_shortcuts_lenet", cnn_rows),
    ("test_shortcuts_sequences", rnn_rows), ("test_shortcuts_text", transformer_rows),
    ("test_shortcuts_generative_hidden", generative_rows),
    ("test_shortcuts_planted_corpus", planted_corpus_rows),
    ("test_shortcuts_transformer_reversal", reversal_transformer_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="add the rows that train a model here")
    args = parser.parse_args()
    start = time.perf_counter()
    missing: list[str] = []
    rows: list[Row] = []
    for module, build in SECTIONS:
        if _shortcut_module(module, missing) is not None:
            rows += build(args.train)
    embeddings = _shortcut_module("test_shortcuts_embeddings", missing)
    if embeddings is not None:
        rows += embedding_rows(embeddings)
    rows.sort(key=lambda row: row[0])
    print("| assignment | graded test | bar | shortcut | shortcut's score | reference | verdict |")
    print("|---|---|---|---|---|---|---|")
    for assignment, test, bar, shortcut, score, reference, clears in rows:
        verdict = {True: "**clears**", False: "misses", None: "not run"}[clears]
        print(f"| {assignment} | {test} | {bar} | {shortcut} | {score} | {reference} | {verdict} |")
    for path in missing:
        print(f"\n{path} is missing: its rows are left out")
    print(f"\n{len(rows)} rows, {sum(r[6] is True for r in rows)} shortcut(s) clearing a bar; "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
