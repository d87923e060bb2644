# The spatial prior of the shipped FRTM and G-FRTM (plugins/spatial_prior.py): the
# connected components of an object's new mask that do not touch its previous mask,
# dilated by half the object's size (margin * sqrt(area), at least min_radius pixels), are
# removed before aggregation and before the target model learns from the mask. The margin
# was set a priori (half the object's size), not tuned: measured once on DAVIS-2016 val
# (FRTM, 360p): J&F 63.3 -> 66.7; on the train sequences (240p) 69.2 -> 69.8; TTVOS on val
# 56.9 -> 58.0.
spatial_prior = dict(type="SpatialPrior", margin=0.5, min_radius=8)
