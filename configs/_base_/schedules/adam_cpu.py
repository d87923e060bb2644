# The official FRTM optimiser (Adam, amsgrad, wd 1e-5), on a schedule sized for a 2-core CPU.
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="Adam", lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-5, amsgrad=True),
)
param_scheduler = [dict(type="MultiStepLR", by_epoch=True, milestones=[5], gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=6)
seed = 0
log_interval = 10
