// The SimCLR trainer: DESIGN.md's training step in a loop over epochs, with what a run needs
// around it: logging (progress display, metrics JSONL), a kNN monitor each epoch, checkpoints
// (every epoch, on SIGINT/SIGTERM, at a time or step budget) and resume, NaN/Inf detection, and the
// final evaluation (kNN and linear probe on the test split).
//
// Distributed (mpirun): every rank runs this with its own process group; each rank takes
// batch_size / world samples per step, the loss's negatives span the global batch
// (dist/all_gather.h), gradients are averaged (dist/grad_bucketer.h), and rank 0 alone writes logs,
// metrics, checkpoints and evaluates. Every rank loads the same checkpoint on resume.
//
// Output directory (output.dir): config.json (the effective config), metrics.jsonl,
// checkpoint.safetensors (model, optimizer state, step, config: what --resume reads),
// encoder.safetensors (the encoder alone, torchvision's names: PyTorch loads it strictly into the
// matching ResNet), training_curves.png.
#pragma once

#include <memory>
#include <string>

#include "dist/process_group.h"
#include "simclr/config.h"

namespace simclr {

struct TrainSummary {
  int64_t steps = 0;           // global steps done, including those before a resume
  int64_t epochs_done = 0;     // complete epochs
  double loss = 0;             // the last logged loss
  double knn_accuracy = -1;    // final kNN top-1 (-1: not evaluated)
  double probe_accuracy = -1;  // final linear-probe top-1 (-1: not evaluated)
  double train_seconds = 0;    // this process's training time
  double images_per_s = 0;     // samples (two views each) per second over this process's steps
  // "done", "signal", "time budget", "max steps" or "non-finite loss".
  std::string stop_reason;
};

class Trainer {
 public:
  // Loads the data, builds the model on `device`, and with `resume` restores the run from
  // output.dir/checkpoint.safetensors. Every rank of `group` constructs one.
  Trainer(const Config& config, Device device, ProcessGroup& group, bool resume);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains to the end (or a stop), then evaluates when training is complete. A non-finite loss
  // stops training with stop_reason "non-finite loss" and leaves the last good checkpoint.
  TrainSummary fit();

  // The loss of each step run by this process, in order (for tests of resume).
  const std::vector<float>& step_losses() const;

  struct State;  // simclr/trainer_state.h, private to the trainer's sources

 private:
  std::unique_ptr<State> s_;
};

// SIGINT and SIGTERM set a flag that the training loop polls before each step: it writes a
// checkpoint and stops. A second signal kills the process as usual.
void install_stop_signals();
bool stop_requested();
void request_stop(bool on = true);  // what the handler does; tests call it directly

}  // namespace simclr
