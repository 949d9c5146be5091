"""Training on a Dask LocalCluster (2 worker processes) with xgboost.dask, from a partitioned
Parquet cohort: the distributed model discriminates on held-out patients within 0.01 of the
same model fitted on one machine, and metrics from distributed predictions equal those
computed on one machine from the same model."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.labels import survival_target
from features.parquet_cohort import read_partition
from features.pipeline import GeneFrequencyFilter
from features.synthetic.partitioned import write_synthetic_partitions
from models.aft import AFTRiskModel
from training.distributed import (
    LABEL_COLUMNS,
    dask_client,
    fit_relapse_on_dask,
    partition_design,
    predict_on_dask,
)
from training.survival_metrics import harrell_c

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cohort_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("distributed") / "cohort"
    write_synthetic_partitions(6000, 11, folder, partition_size=1500)  # 4 partitions
    return folder


def test_distributed_model_matches_the_single_machine_model(cohort_folder: Path) -> None:
    readers = [partial(read_partition, cohort_folder, k) for k in range(4)]
    train, held_out = readers[:3], readers[3:]
    with dask_client(n_workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        fit = fit_relapse_on_dask(client, train)
        predicted = predict_on_dask(client, fit, held_out)
    # the same model on one machine, on the same training patients
    frames = [partition_design(read) for read in train]
    design = pd.concat(frames).reindex(columns=[*fit.input_features, *LABEL_COLUMNS])
    X = design[fit.input_features]
    target = survival_target(design["_time"].to_numpy(), design["_event"].to_numpy() == 1.0)
    selector = GeneFrequencyFilter().fit(X)
    local = AFTRiskModel().fit(selector.transform(X), target)
    test = partition_design(held_out[0])
    X_test = test.reindex(columns=fit.input_features)
    assert fit.n_patients == len(design)
    assert list(selector.get_feature_names_out()) == list(
        fit.pipeline.named_steps["select"].get_feature_names_out())  # the filter fitted once
    c_distributed = harrell_c(predicted["time_months"].to_numpy(),
                              predicted["event"].to_numpy(), predicted["risk"].to_numpy())
    c_local = harrell_c(test["_time"].to_numpy(), test["_event"].to_numpy() == 1.0,
                        local.predict(selector.transform(X_test)))
    print(f"\nheld-out Harrell's C: distributed {c_distributed:.4f}, one machine {c_local:.4f}")
    assert c_distributed > 0.55
    assert abs(c_distributed - c_local) <= 0.01
    # evaluation on Dask equals the one-machine computation on the same model's predictions
    same_model = fit.pipeline.predict(X_test)
    np.testing.assert_allclose(predicted["risk"].to_numpy(), same_model, rtol=1e-5, atol=1e-5)
    assert c_distributed == pytest.approx(harrell_c(test["_time"].to_numpy(),
                                                    test["_event"].to_numpy() == 1.0,
                                                    same_model), abs=1e-12)
