#include "simclr/pretrained.h"

#include "core/error.h"
#include "core/safetensors.h"
#include "layers/checkpoint.h"

namespace simclr {

Dataset load_dataset(const DataConfig& d, Split split) {
  SIMCLR_CHECK(d.dataset != "folder" || split == Split::train || !d.test_path.empty(),
               "data.test_path: a folder data set has no test split unless data.test_path is set");
  ImageFolderOptions o;
  o.size = d.image_size;
  o.channels = d.channels;
  o.threads = d.threads;
  const bool folder_test = d.dataset == "folder" && split == Split::test;
  return load_dataset(d.dataset, folder_test ? d.test_path : d.path, split, o);
}

bool has_test_split(const DataConfig& d) {
  return d.dataset != "folder" || !d.test_path.empty();
}

AugmentPolicy resolve_policy(const Config& config, const Dataset& data) {
  AugmentPolicy p = config.augment;
  const int32_t size = config.augment.out_h;
  p.out_h = size > 0 ? size : static_cast<int32_t>(data.height());
  p.out_w = size > 0 ? size : static_cast<int32_t>(data.width());
  return p;
}

DType resolve_dtype(const Config& config, Device device) {
  const std::string& dt = config.train.dtype;
  return dt == "f32" || (dt == "auto" && device.is_cpu()) ? DType::f32 : DType::bf16;
}

std::unique_ptr<SimCLRModel> build_model(const Config& config, int64_t in_channels) {
  const ModelConfig& m = config.model;
  ResNetConfig encoder;
  encoder.depth = m.depth;
  encoder.in_channels = in_channels;
  encoder.base_width = m.width;
  encoder.small_stem = m.small_stem;
  encoder.zero_init_residual = m.zero_init_residual;
  ProjectionHeadConfig head;
  head.layers = m.head_layers;
  head.hidden_dim = m.head_hidden;
  head.out_dim = m.out_dim;
  Generator gen(config.train.seed);
  return std::make_unique<SimCLRModel>(encoder, head, &gen);
}

Pretrained load_pretrained(const std::string& checkpoint, Device device,
                           const std::vector<std::string>& overrides) {
  const SafetensorsData file = load_safetensors(checkpoint);
  const auto text = file.metadata.find("simclr.config");
  SIMCLR_CHECK(text != file.metadata.end(), checkpoint,
               ": not a simclr_train checkpoint (no simclr.config metadata)");
  const nlohmann::json json = nlohmann::json::parse(text->second, nullptr, false);
  SIMCLR_CHECK(!json.is_discarded(), checkpoint, ": its simclr.config metadata is not valid JSON");
  Pretrained p;
  p.config = default_config(device);
  apply_json(p.config, json, checkpoint + " (simclr.config)");
  const nlohmann::json model_before = to_json(p.config)["model"];
  for (const std::string& o : overrides) apply_override(p.config, o);
  SIMCLR_CHECK(to_json(p.config)["model"] == model_before,
               "the overrides may not change model.* keys: the model is the checkpoint's");
  validate(p.config);
  // The input channels are those of the first convolution's filters (OIHW on disk).
  const Tensor* conv1 = file.find("encoder.conv1.weight");
  SIMCLR_CHECK(conv1 && conv1->ndim() == 4, checkpoint,
               ": expected a 4-D tensor 'encoder.conv1.weight' (a simclr_train checkpoint)");
  p.model = build_model(p.config, conv1->size(1));
  p.model->to(device);
  Checkpoint ck = load_checkpoint(checkpoint, *p.model, /*strict=*/false);
  const auto step = ck.metadata.find("simclr.step");
  p.step = step == ck.metadata.end() ? 0 : std::stoll(step->second);
  p.model->eval();
  return p;
}

}  // namespace simclr
