"""Shared fixtures and the suite's tiers.

- The paper's oracle and the real data sets from the data directory, skipped when absent.
- ``system_package``: a test that needs a system package (Chromium, PostgreSQL) skips with one line
  naming the command that installs it, or fails under ``CI=true``.
- Every test is marked ``unit``, ``parity`` or ``recipe`` (see ``TIERS``), so that
  ``bash scripts/test.sh -m unit`` runs the fast tier alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PAPER_ORACLE = "oracle/seqgan_oracle_params.npz"


def paper_oracle_file() -> Path | None:
    data_dir = os.environ.get("SEQGAN_DATA_DIR")
    if not data_dir:
        return None
    path = Path(data_dir) / PAPER_ORACLE
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def paper_oracle_path() -> Path:
    data_dir = os.environ.get("SEQGAN_DATA_DIR")
    if not data_dir:
        pytest.skip("SEQGAN_DATA_DIR is not set: the paper's oracle (oracle/seqgan_oracle_params.npz) is unavailable")
    path = Path(data_dir) / PAPER_ORACLE
    if not path.is_file():
        pytest.skip(f"the paper's oracle file {path} does not exist (SEQGAN_DATA_DIR={data_dir})")
    return path


# The suite's models are tiny: one thread avoids oversubscribing a small, shared machine (with two
# cores and another busy process, torch's default of two threads makes small ops ~10x slower).
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The real data sets: $SEQGAN_DATA_DIR, else the project's sibling ../shared/data; skipped when
    neither exists."""
    env_dir = os.environ.get("SEQGAN_DATA_DIR")
    sibling = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    path = Path(env_dir) if env_dir else sibling
    if not path.is_dir():
        where = f"SEQGAN_DATA_DIR={env_dir}" if env_dir else f"SEQGAN_DATA_DIR is not set and {sibling} does not exist"
        pytest.skip(f"the real data sets are unavailable ({where})")
    return path


# -- system packages ---------------------------------------------------------------------------------


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_system_package(found: bool, what: str, packages: str, problem: str = "is not installed") -> None:
    """Skip the calling test when ``what`` is not ``found``, with one line naming the command that
    installs it; under CI=true fail instead, since CI's set-up installs it (scripts/system_deps.sh)."""
    if found:
        return
    problem = " ".join(problem.split())  # one line, whatever a server's log said
    message = f"{what} {problem}: `apt-get install {packages}` as root installs it (bash scripts/test.sh does)"
    if on_ci():
        pytest.fail(f"{message}; CI=true, so this does not skip", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def system_package():
    """``system_package(found, what, packages)``: see ``require_system_package``."""
    return require_system_package


# -- tiers ---------------------------------------------------------------------------------------------
# torchtune's split (STYLE.md, 16): ``unit`` tiny-dimension tests with fixed seeds (shapes, known
# values, one-line errors, in process); ``parity`` a computation against an independent reference
# (NLTK's BLEU, float64 NumPy, looped or public-code implementations, published examples);
# ``recipe`` end-to-end runs (``seqgan`` commands in subprocesses, torchrun, a real browser or
# database). Each file gets a tier, or a dict of its tests' tiers with "*" for the rest.

TIERS: dict[str, str | dict[str, str]] = {
    "test_kl.py": {
        "*": "unit",
        "test_the_kl_objective_keeps_g_near_its_start_in_proportion_to_beta_and_a_frozen_d_stays": "recipe",
        "test_sample_and_evaluate_resample_with_the_runs_discriminator": "recipe",
    },
    "test_kl_study.py": {
        "*": "unit",
        "test_one_smoke_seed_end_to_end_and_rebuilt_without_checkpoints": "recipe",
        "test_kl_argument_errors": "recipe",
        "test_the_checker_re_derives_the_summary_over_seeds_and_names_a_wrong_cell": "recipe",
    },
    "test_benchmark.py": {
        "*": "recipe",
        "test_the_curve_is_read_between_the_temperatures_that_bracket_the_value": "unit",
        "test_a_gap_is_the_column_minus_tempered_mle_in_bleu4_error_negative_better": "unit",
        "test_the_prediction_interval_of_one_run_by_hand": "unit",
    },
    "test_texygen.py": {
        "*": "unit",
        "test_a_resumed_run_ends_where_an_uninterrupted_one_does": "recipe",
        "test_a_run_scores_what_its_samples_file_holds": "recipe",
        "test_the_command_refuses_a_finished_run_dir_and_a_missing_file_in_one_line": "recipe",
        "test_the_tokenizer_is_word_tokenizes_wherever_punkt_cannot_split_a_coco_caption": "parity",
    },
    "test_bench.py": {
        "*": "recipe",
        "test_public_discriminator_scores_and_gradients_equal_ours": "parity",
        "test_public_mle_loss_equals_ours": "parity",
        "test_public_rewards_last_column_is_d_of_the_samples": "parity",
    },
    "test_bleu.py": {
        "*": "unit",
        "test_random_small_cases_match_nltk": "parity",
        "test_string_tokens_and_length_ties_match_nltk": "parity",
        "test_real_captions_match_nltk": "parity",
        "test_self_bleu_matches_brute_force_nltk": "parity",
        "test_self_bleu_real_captions_match_brute_force_nltk": "parity",
        "test_mean_bleu_matches_mean_of_nltk": "parity",
        "test_cli_bleu_matches_nltk_and_reports_bad_files": "parity",
    },
    "test_checkpoint.py": "unit",
    "test_check_results.py": "unit",
    "test_cli.py": "recipe",
    "test_cli_experiment.py": "unit",
    "test_cli_rewards.py": {
        "*": "recipe",
        "test_defaults_are_the_paper_estimate_without_baseline": "unit",
        "test_bad_settings_are_one_line_config_errors_naming_the_key": "unit",
    },
    "test_compiled.py": {"*": "unit", "test_compiled_training_equals_eager": "parity"},
    "test_config.py": "unit",
    "test_corpus.py": "unit",
    "test_critic.py": "unit",
    "test_d_graph.py": {
        "*": "unit",
        "test_eager_epochs_equal_train_discriminator": "parity",
        "test_capture_bookkeeping_leaves_training_as_eager": "parity",
    },
    "test_data.py": "unit",
    "test_g_graph.py": {
        "*": "unit",
        "test_eager_epochs_equal_mle_epoch": "parity",
        "test_capture_bookkeeping_leaves_training_as_eager": "parity",
    },
    "test_devices.py": "unit",
    "test_discriminator.py": {
        "*": "unit",
        "test_features_equal_conv1d_reference": "parity",
        "test_features_gradients_match_conv1d_reference": "parity",
        "test_fp32_loss_and_gradients_equal_d90164a_bit_for_bit": "parity",
        "test_bf16_loss_and_gradients_close_to_d90164a_under_autocast": "parity",
    },
    "test_distributed.py": "recipe",
    "test_experiments.py": {
        "*": "unit",
        "test_table1_and_temperature_end_to_end": "recipe",
        "test_temperature_sweep_of_a_run_without_baseline_rows": "recipe",
        "test_experiment_argument_errors": "recipe",
        "test_a_run_that_lost_its_checkpoint_is_started_again_and_its_remains_kept": "recipe",
        "test_a_finished_run_is_reused_only_if_the_command_would_have_made_it": "recipe",
    },
    "test_gap_signs.py": "unit",
    "test_generator.py": "unit",
    "test_layers.py": "unit",
    "test_human_eval.py": {
        "*": "unit",
        "test_krippendorff_alpha_on_his_published_example": "parity",
        "test_the_committed_poems_sheet_is_remade_byte_for_byte": "recipe",
        "test_rating_a_sheet_in_chromium": "recipe",
    },
    "test_mcts.py": "unit",
    "test_merged_convs.py": {"*": "unit", "test_merged_equals_branches_at_the_paper_filter_counts": "parity"},
    "test_midi.py": "unit",
    "test_mixed_precision.py": "unit",
    "test_oracle.py": {
        "*": "unit",
        "test_token_nll_matches_float64_reference_on_random_oracle": "parity",
        "test_token_nll_handles_other_lengths_and_masks": "parity",
        "test_paper_oracle_matches_float64_reference": "parity",
        "test_first_token_frequencies_match_float64_softmax": "parity",
    },
    "test_own_corpus.py": {
        "*": "unit",
        "test_a_text_run_starts_from_its_best_epoch_and_ends_with_its_tempered_start": "recipe",
        "test_a_log_file_gets_a_line_per_epoch_and_one_inside_a_long_epoch": "recipe",
        "test_patience_ends_pre_training_early_and_says_so": "recipe",
        "test_ctrl_c_inside_an_mle_epoch_checkpoints_there_and_resumes_to_the_uninterrupted_end": "recipe",
    },
    "test_own_start.py": {
        "*": "unit",
        "test_paired_test_equals_scipys": "parity",
        "test_own_start_on_two_smoke_seeds": "recipe",
        "test_own_start_argument_errors": "recipe",
    },
    "test_penalty.py": "unit",
    "test_penalty_study.py": "recipe",
    "test_real_study.py": {
        "*": "unit",
        "test_real_study_on_two_tiny_seeds": "recipe",
        "test_real_argument_errors": "recipe",
    },
    "test_refactor_parity.py": "parity",
    "test_real_data.py": {
        "*": "recipe",
        "test_token_mask_counts_up_to_the_first_end_token": "unit",
        "test_losses_ignore_what_follows_the_end_token": "unit",
        "test_samples_and_rollouts_are_padded_after_the_end_token": "unit",
        "test_vocab_decode_stops_at_the_end_token": "unit",
    },
    "test_rewards_experiment.py": {
        "*": "unit",
        "test_rewards_on_a_smoke_run": "recipe",
        "test_rewards_train_on_the_smoke_config": "recipe",
    },
    "test_rollout.py": {
        "*": "unit",
        "test_rewards_from_completions_equal_looped_reference": "parity",
        "test_looped_reference_matches_exact_q": "parity",
    },
    "test_scripts.py": {
        "*": "unit",
        "test_d_output_l2_takes_the_papers_l2_term_out_of_ds_logged_training_loss": "recipe",
        "test_penalty_weight_probe_finds_a_constant_d_at_a_large_weight_and_continues_a_sweep": "recipe",
    },
    "test_system_packages.py": "unit",
    "test_train.py": {
        "*": "unit",
        "test_pg_bleu_rewards_equal_bleu_of_the_completed_rollouts": "parity",
        "test_tf1_adam_steps_by_tensorflow_1s_formula": "parity",
    },
    "test_written_configs.py": {
        "*": "unit",
        "test_a_run_writes_no_data_dir_and_records_machine_precision_and_code": "recipe",
        "test_cpu_seconds_are_counted_across_a_resume_and_unknown_after_an_old_checkpoint": "recipe",
    },
    "test_symmetric_tuning.py": {
        "*": "unit",
        "test_symmetric_study_on_tiny_studies_end_to_end": "recipe",
    },
    "test_tune.py": {
        "*": "recipe",
        "test_bad_space_is_an_error_naming_file_and_line": "unit",
        "test_space_suggests_the_config_types": "unit",
        "test_missing_optuna_is_one_line": "unit",
        "test_comparison_finds_front_points_no_other_front_dominates": "unit",
        "test_describe_machines_names_spans_of_trials": "unit",
    },
}


def pytest_collection_modifyitems(config, items):
    """Mark every test with its tier; a test file missing from TIERS, or a TIERS entry naming no
    test of its file, stops the run."""
    checked: set[Path] = set()
    for item in items:
        path = Path(str(item.fspath))
        tiers = TIERS.get(path.name)
        if tiers is None:
            raise pytest.UsageError(f"tests/conftest.py: {path.name} has no tier in TIERS (unit, parity or recipe)")
        if isinstance(tiers, dict) and path not in checked:
            checked.add(path)
            source = path.read_text(encoding="utf-8")
            stale = [name for name in tiers if name != "*" and f"def {name}(" not in source]
            if stale:
                raise pytest.UsageError(f"tests/conftest.py: TIERS names tests {path.name} does not have: {stale}")
        name = getattr(item, "originalname", item.name)
        tier = tiers if isinstance(tiers, str) else tiers.get(name, tiers["*"])
        item.add_marker(getattr(pytest.mark, tier))
