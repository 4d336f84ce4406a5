"""Training networks as optimal control of Volterra equations: adjoints, objectives, training."""
from ._adjoint import AdjointResult, discrete_adjoint
from ._data import (DATASETS, Dataset, band_fields, circles, digits_available, lift, load_digits,
                    make_dataset, spheres, spirals, two_moons, xor)
from ._objective import LOSSES, REGULARIZERS, FieldSpec, Objective, parameter_layout, rebuild_network
from ._train import TrainingInterrupted, TrainResult, random_fields, train
from ._continuous import (ContinuousAdjointResult, ContinuousDenseAdjointResult, continuous_adjoint,
                          continuous_adjoint_dense, costate_ode)

__all__ = ["AdjointResult", "discrete_adjoint",
           "Dataset", "DATASETS", "make_dataset", "two_moons", "circles", "spirals", "xor", "spheres",
           "lift", "band_fields", "load_digits", "digits_available",
           "Objective", "FieldSpec", "parameter_layout", "rebuild_network", "LOSSES", "REGULARIZERS",
           "train", "TrainResult", "TrainingInterrupted", "random_fields",
           "continuous_adjoint", "ContinuousAdjointResult", "costate_ode",
           "continuous_adjoint_dense", "ContinuousDenseAdjointResult"]
from ._digits import DigitsResult, digits_dataset, digits_experiment, digits_network

__all__ += ["digits_experiment", "digits_network", "digits_dataset", "DigitsResult"]
