// The public C++ API's documented argument checks, called directly (not
// through Python): each bad call must throw std::invalid_argument and leave
// every array it was given as it was.  Built by tests/test_embedding.py
// against the installed package (only the umbrella header).  Prints one
// line per failed check and "checks: N passed" on success.
#include <gdcore/gdcore.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

namespace {

int failures = 0, passed = 0;

// `call` must throw std::invalid_argument and leave the watched bytes alone.
template <class... Watched>
void expect_refused(const char* what, const std::function<void()>& call, Watched&... watched) {
  std::vector<std::vector<char>> before;
  auto snap = [](const auto& v) {
    const char* p = reinterpret_cast<const char*>(v.data());
    return std::vector<char>(p, p + v.size() * sizeof(v[0]));
  };
  (before.push_back(snap(watched)), ...);
  bool threw = false;
  try {
    call();
  } catch (const std::invalid_argument&) {
    threw = true;
  } catch (...) {
    std::printf("FAIL %s: threw something other than std::invalid_argument\n", what);
    ++failures;
    return;
  }
  std::size_t k = 0;
  bool same = true;
  ((same = same && snap(watched) == before[k++]), ...);
  if (!threw || !same) {
    std::printf("FAIL %s:%s%s\n", what, threw ? "" : " no exception",
                same ? "" : " an array was written");
    ++failures;
    return;
  }
  ++passed;
}

}  // namespace

int main() {
  const std::int64_t n = 6, d = 3;
  std::vector<double> X(n * d), y(n), w(d, 0.5), b(1, 0.25), out(n, -1.0);
  for (std::int64_t i = 0; i < n * d; ++i) X[std::size_t(i)] = 0.1 * double(i % 7) - 0.3;
  for (std::int64_t i = 0; i < n; ++i) y[std::size_t(i)] = i % 2 ? 1.0 : -1.0;
  std::vector<std::int64_t> order{0, 1, 2, 3, 4, 5};
  std::vector<double> lr(3, 0.1);
  gd::DenseData<double> data;
  data.X = X.data();
  data.y = y.data();
  data.n = n;
  data.d = d;

  // ---- decision_function: null weights or output
  expect_refused("decision_function null out", [&] { gd::decision_function(data, w.data(), 0.0, nullptr); });
  expect_refused("decision_function null w", [&] { gd::decision_function(data, nullptr, 0.0, out.data()); },
                 out);
  expect_refused("decision_function out over X",
                 [&] { gd::decision_function(data, w.data(), 0.0, X.data()); }, X);

  // ---- minibatch_epoch
  auto model = [&] {
    gd::LinearModel<double> m;
    m.coef.param = w.data();
    m.coef.size = d;
    m.intercept.param = b.data();
    m.intercept.size = 1;
    return m;
  };
  gd::MinibatchOptions mo;
  mo.loss = gd::Loss{gd::LossKind::hinge, 1.0};
  mo.batch_size = 2;
  const gd::OptimizerOptions sgd = gd::SGDOptions{};
  expect_refused("minibatch null lr", [&] {
    auto m = model();
    gd::minibatch_epoch(data, order.data(), n, mo, sgd, nullptr, m);
  }, w, b);
  expect_refused("minibatch infinite lr", [&] {
    auto m = model();
    std::vector<double> bad{0.1, std::numeric_limits<double>::infinity(), 0.1};
    gd::minibatch_epoch(data, order.data(), n, mo, sgd, bad.data(), m);
  }, w, b);
  expect_refused("minibatch negative loss parameter", [&] {
    auto m = model();
    gd::MinibatchOptions o = mo;
    o.loss = gd::Loss{gd::LossKind::epsilon_insensitive, -1.0};
    gd::minibatch_epoch(data, order.data(), n, o, sgd, lr.data(), m);
  }, w, b);
  expect_refused("minibatch unknown penalty", [&] {
    auto m = model();
    gd::MinibatchOptions o = mo;
    o.penalty = gd::Penalty(7);
    gd::minibatch_epoch(data, order.data(), n, o, sgd, lr.data(), m);
  }, w, b);
  expect_refused("minibatch coef over the order", [&] {
    std::vector<std::int64_t> buf(order);
    buf.resize(n + d);
    auto m = model();
    m.coef.param = reinterpret_cast<double*>(buf.data() + n - 1);
    gd::minibatch_epoch(data, buf.data(), n, mo, sgd, lr.data(), m);
  }, w, b, order);

  // ---- minibatch_passes: two passes of the six rows (nb = 3 per pass)
  {
    std::vector<std::int64_t> twice(order);
    twice.insert(twice.end(), order.begin(), order.end());
    std::vector<double> lr2(6, 0.1);
    std::vector<gd::PassSummary> sums(2);
    expect_refused("passes not a whole number", [&] {
      auto m = model();
      gd::minibatch_passes(data, twice.data(), 2 * n - 1, n, mo, sgd, lr2.data(), m, sums.data());
    }, w, b);
    expect_refused("passes null summaries", [&] {
      auto m = model();
      gd::minibatch_passes(data, twice.data(), 2 * n, n, mo, sgd, lr2.data(), m, nullptr);
    }, w, b);
    expect_refused("passes second pass's lr infinite", [&] {
      auto m = model();
      std::vector<double> bad(lr2);
      bad[4] = std::numeric_limits<double>::infinity();
      gd::minibatch_passes(data, twice.data(), 2 * n, n, mo, sgd, bad.data(), m, sums.data());
    }, w, b);
    expect_refused("passes summaries over coef", [&] {
      auto m = model();
      gd::minibatch_passes(data, twice.data(), 2 * n, n, mo, sgd, lr2.data(), m,
                           reinterpret_cast<gd::PassSummary*>(w.data()));
    }, w, b);
    // the same as one minibatch_epoch per pass
    std::vector<double> w1(d, 0.5), b1(1, 0.25), w2(d, 0.5), b2(1, 0.25);
    gd::LinearModel<double> m1 = model(), m2 = model();
    m1.coef.param = w1.data();
    m1.intercept.param = b1.data();
    m2.coef.param = w2.data();
    m2.intercept.param = b2.data();
    gd::minibatch_passes(data, twice.data(), 2 * n, n, mo, sgd, lr2.data(), m1, sums.data());
    const double a = gd::minibatch_epoch(data, order.data(), n, mo, sgd, lr2.data(), m2);
    const double c = gd::minibatch_epoch(data, order.data(), n, mo, sgd, lr2.data() + 3, m2);
    if (w1 != w2 || b1 != b2 || sums[0].loss != a || sums[1].loss != c || !sums[1].finite ||
        sums[1].sq_norm != gd::dot(w2.data(), w2.data(), d)) {
      std::printf("FAIL minibatch_passes differs from one minibatch_epoch per pass\n");
      ++failures;
    } else {
      ++passed;
    }
  }

  // a batch larger than the pass is the pass (no buffer of that size)
  {
    std::vector<double> w1(d, 0.5), b1(1, 0.25), w2(d, 0.5), b2(1, 0.25);
    double one = 0.1;
    gd::MinibatchOptions big = mo, exact = mo;
    big.batch_size = std::numeric_limits<std::int64_t>::max();
    exact.batch_size = n;
    gd::LinearModel<double> m1 = model(), m2 = model();
    m1.coef.param = w1.data();
    m1.intercept.param = b1.data();
    m2.coef.param = w2.data();
    m2.intercept.param = b2.data();
    const double l1 = gd::minibatch_epoch(data, order.data(), n, big, sgd, &one, m1);
    const double l2 = gd::minibatch_epoch(data, order.data(), n, exact, sgd, &one, m2);
    if (w1 != w2 || b1 != b2 || l1 != l2) {
      std::printf("FAIL batch_size INT64_MAX differs from batch_size = rows\n");
      ++failures;
    } else {
      ++passed;
    }
  }

  // ---- CSR: null values or indices with entries
  std::vector<double> values{1.0, 2.0, 3.0};
  std::vector<std::int64_t> indices{0, 2, 1}, indptr{0, 1, 2, 3, 3, 3, 3};
  gd::CsrData<double> csr;
  csr.data = values.data();
  csr.indices = indices.data();
  csr.indptr = indptr.data();
  csr.y = y.data();
  csr.n = n;
  csr.d = d;
  for (int which = 0; which < 2; ++which) {
    gd::CsrData<double> bad = csr;
    (which == 0 ? bad.data : reinterpret_cast<const double*&>(bad.indices)) = nullptr;
    expect_refused(which == 0 ? "csr minibatch null data" : "csr minibatch null indices", [&] {
      auto m = model();
      gd::minibatch_epoch(bad, order.data(), n, mo, sgd, lr.data(), m);
    }, w, b);
    expect_refused(which == 0 ? "csr plain null data" : "csr plain null indices", [&] {
      gd::PlainSGDOptions po;
      po.loss = mo.loss;
      po.learning_rate = gd::LearningRate::constant;
      po.eta0 = 0.1;
      gd::PlainSGDState<double> st;
      st.w = w.data();
      gd::plain_sgd_epoch(bad, order.data(), n, po, st);
    }, w);
  }

  // ---- plain_sgd_epoch: rates that cannot be finite
  auto plain = [&](gd::PlainSGDOptions po) {
    gd::PlainSGDState<double> st;
    st.w = w.data();
    gd::plain_sgd_epoch(data, order.data(), n, po, st);
  };
  gd::PlainSGDOptions po;
  po.loss = mo.loss;
  expect_refused("plain default options (optimal_init unset)", [&] { plain(po); }, w);
  po.learning_rate = gd::LearningRate::constant;
  po.eta0 = std::numeric_limits<double>::infinity();
  expect_refused("plain eta0 inf", [&] { plain(po); }, w);
  po.eta0 = 0.1;
  po.learning_rate = gd::LearningRate::invscaling;
  po.power_t = std::nan("");
  expect_refused("plain power_t nan", [&] { plain(po); }, w);
  po.power_t = 0.5;
  po.learning_rate = gd::LearningRate(5);
  expect_refused("plain unknown learning rate", [&] { plain(po); }, w);
  po.learning_rate = gd::LearningRate::constant;
  po.loss = gd::Loss{gd::LossKind::huber, std::nan("")};
  expect_refused("plain nan loss parameter", [&] { plain(po); }, w);

  // ---- plain_sgd_epoch with targets in the order's order: y then holds one
  // entry per step, so weights lying past y's n-th entry but inside its
  // count entries overlap it
  {
    const std::vector<std::int64_t> twice{0, 1, 2, 3, 4, 5, 0, 1};  // 8 steps over 6 rows
    std::vector<double> y_then_w(8 + d, 1.0);
    gd::DenseData<double> in_order = data;
    in_order.y = y_then_w.data();
    gd::PlainSGDOptions pi;
    pi.loss = mo.loss;
    pi.learning_rate = gd::LearningRate::constant;
    pi.eta0 = 0.1;
    pi.targets_in_order = true;
    gd::PlainSGDState<double> st;
    st.w = y_then_w.data() + 6;  // y's entries 6 and 7 and beyond
    expect_refused("plain weights over the targets in order", [&] {
      gd::plain_sgd_epoch(in_order, twice.data(), 8, pi, st);
    }, y_then_w);
  }

  // ---- block_order: null arrays
  std::vector<std::int64_t> blocks{1, 0}, within{2, 0, 1}, rows(5, -1);
  expect_refused("block_order null blocks",
                 [&] { gd::block_order(nullptr, 2, within.data(), 3, 3, 5, rows.data()); }, rows);
  expect_refused("block_order null within",
                 [&] { gd::block_order(blocks.data(), 2, nullptr, 3, 3, 5, rows.data()); }, rows);
  expect_refused("block_order null out",
                 [&] { gd::block_order(blocks.data(), 2, within.data(), 3, 3, 5, nullptr); });

  // ---- shuffle_order: a piece outside the order, a null order
  std::uint64_t seed = 5;
  expect_refused("shuffle_order end beyond n",
                 [&] { gd::shuffle_order(rows.data(), 5, 2, 6, seed); }, rows);
  expect_refused("shuffle_order begin after end",
                 [&] { gd::shuffle_order(rows.data(), 5, 3, 2, seed); }, rows);
  expect_refused("shuffle_order null order", [&] { gd::shuffle_order(nullptr, 5, 0, 5, seed); });
  if (seed != 5) {
    std::printf("FAILED: shuffle_order refused but moved its generator\n");
    ++failures;
  }

  // ---- losses (through the umbrella header too)
  std::vector<double> ly{1.0}, lp{0.5}, lo{-7.0};
  expect_refused("loss_value negative parameter", [&] {
    gd::loss_value(gd::Loss{gd::LossKind::huber, -1.0}, ly.data(), lp.data(), lo.data(), 1);
  }, lo);

  std::printf("checks: %d passed, %d failed\n", passed, failures);
  return failures == 0 ? 0 : 1;
}
