# FRTM's previous target-model settings (the FRTM file of commit 21b17fe and every
# experiment recorded with it). Inference: the official --fast preset (c96, 5 augmented
# samples, regularisation 1e-4/1e-2, pixel weighting). Training: the train preset cut to
# one sample and 2 Gauss-Newton steps. How they compare: docs/experiments.md ("FRTM's
# target models").
# Use: _base_ = [..., "_base_/models/frtm_tm_v1.py"]
#      model = dict(target_model={{_base_.tm_v1}}, train_target_model={{_base_.train_tm_v1}})
tm_v1 = dict(_delete_=True, preset="fast")
train_tm_v1 = dict(_delete_=True, num_aug=1, init_iters=(5, 10))
