# G-FRTM: FRTM + the reuse gate (copy variant), EfficientNet-Lite0. The shipped `g-frtm`.
#
# Train (only the gate learns; FRTM is loaded from its shipped file and stays frozen, so
# tau = 1 is exactly FRTM):
#   vosframe train-gate configs/frtm/gfrtm_effnetlite0_davis16.py --work-dir work_dirs/gfrtm
# It runs FRTM as a normal inference session over DAVIS-2016 train (240p frames resized to
# 360p, the scale FRTM runs 480p videos at), keeps the trace
# (F_t, output masks, scores, pooled frames, ground truth), and trains the gate on
# (frame t, cache age n) pairs from it: the target says how much IoU copying the mask of
# frame t - n loses against FRTM's own output at t (alt_quality, quality_scale). Every 5th
# sequence is held out and the calibration on it is written to calibration.json.
# Traces rather than the clip loop because the clip loop's training-time FRTM is far worse
# than at inference, which hid the frames where copying is safe; the previous clip-loop
# recipe is experiments/configs/frtm/gfrtm_clip_effnetlite0_davis16.py.
#
# Alternative path: "copy" (the object's last output mask). When every object copies, the
# session returns the previous frame's output as it was (no aggregation, resize, labels).
# A copy decided by the pre-gate costs the input resize and a few pixel statistics; one
# decided by the gate also costs the backbone up to F_t (stride 8) and the gate. The gate
# and its training settings are configs/_base_/plugins/copy_gate_traces.py
# (copy_gate); the pre-gate is fitted after the gate on the same traces.
_base_ = ["frtm_effnetlite0_davis16.py", "../_base_/plugins/copy_gate_traces.py"]
model = dict(plugins=[{{_base_.copy_gate}}, {{_base_.spatial_prior}}])
load_from_vosframe = "vosframe/weights/frtm_effnetlite0_davis16.pt"
# short_side: the scale FRTM runs 480p videos at (max_internal_size); frame_steps: each
# training video also on every 2nd frame (twice the motion per frame)
gate_traces = dict(short_side=360, frame_steps=[1, 2])
