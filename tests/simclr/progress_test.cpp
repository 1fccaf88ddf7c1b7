// The progress display written to a temporary file: the text of lines mode (loss, lr, ETA from the
// rate since the first update) and the in-place redraw of bar mode.
#include "simclr/progress.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

namespace simclr {

namespace {

struct TempFile {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::tmpfile(), &std::fclose};
  std::string text() const {
    std::fflush(file.get());
    std::rewind(file.get());
    std::string out;
    for (int c; (c = std::fgetc(file.get())) != EOF;) out.push_back(static_cast<char>(c));
    return out;
  }
};

ProgressUpdate update_at(int64_t global_step, double elapsed_s) {
  return {/*epoch=*/2,
          /*epochs=*/7,
          /*step_in_epoch=*/global_step % 234,
          /*steps_per_epoch=*/234,
          global_step,
          /*total_steps=*/1638,
          /*loss=*/5.4321,
          /*lr=*/0.1175,
          /*images_per_s=*/412.7,
          elapsed_s};
}

}  // namespace

TEST_CASE("format_duration writes h:mm:ss", "[simclr][progress]") {
  CHECK(format_duration(247) == "0:04:07");
  CHECK(format_duration(43200) == "12:00:00");
  CHECK(format_duration(0) == "0:00:00");
  CHECK(format_duration(59.4) == "0:00:59");
  CHECK(format_duration(3599.6) == "1:00:00");
  CHECK(format_duration(3 * 86400 + 61) == "72:01:01");
  CHECK(format_duration(-1) == "-:--:--");
  CHECK(format_duration(NAN) == "-:--:--");
  CHECK(format_duration(INFINITY) == "-:--:--");
}

TEST_CASE("Progress in lines mode writes one plain line per update", "[simclr][progress]") {
  TempFile out;
  REQUIRE(out.file);
  {
    Progress progress(Progress::Mode::auto_detect, out.file.get());  // a file is not a terminal
    CHECK(progress.mode() == Progress::Mode::lines);
    progress.update(update_at(519, 173.0));  // 173 s / 519 steps, 1119 left -> 373 s
    progress.update(update_at(619, 213.0));  // 0.4 s a step since then, 1019 left -> 407.6 s
    progress.message("epoch 3: kNN top-1 0.7123");
  }
  const std::string text = out.text();
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("epoch 3/7") != std::string::npos);
  CHECK(text.find("step 51/234") != std::string::npos);
  CHECK(text.find("loss 5.4321") != std::string::npos);
  CHECK(text.find("lr 0.1175") != std::string::npos);
  CHECK(text.find("412.7 img/s") != std::string::npos);
  CHECK(text.find("ETA 0:06:13") != std::string::npos);
  CHECK(text.find("ETA 0:06:48") != std::string::npos);
  CHECK(text.find("elapsed 0:03:33") != std::string::npos);
  CHECK(text.ends_with("ETA 0:06:48\nepoch 3: kNN top-1 0.7123\n"));
}

TEST_CASE("Progress in bar mode redraws one line in place", "[simclr][progress]") {
  TempFile out;
  REQUIRE(out.file);
  Progress progress(Progress::Mode::bar, out.file.get());
  ProgressUpdate u = update_at(468 + 117, 100.0);  // half of the epoch
  u.loss = 12345.678;                              // a long line first
  progress.update(u);
  u = update_at(468 + 118, 100.2);
  progress.update(u);
  std::string text = out.text();
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\r') == 2);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.find("[############............] 117/234") != std::string::npos);
  CHECK(text.find("loss 5.4321") != std::string::npos);
  CHECK(text.find("ETA ") != std::string::npos);
  // The shorter second line blanks what is left of the first.
  const size_t second = text.rfind('\r');
  CHECK(text.size() - second >= second);

  progress.message("epoch 3: kNN top-1 0.7123");
  progress.update(update_at(468 + 119, 100.4));
  progress.finish();
  progress.finish();  // nothing more: the bar is already ended
  text = out.text();
  const size_t message = text.find("\nepoch 3: kNN top-1 0.7123\n\r");
  CHECK(message != std::string::npos);
  CHECK(text.back() == '\n');
  CHECK(text[text.size() - 2] != '\n');
}

}  // namespace simclr
