// Minimise f(x) = 0.5 * sum_i (i + 1) * x_i^2 with gdcore's fused Adam, from C++.
#include <cmath>
#include <cstdio>
#include <vector>

#include <gdcore/gdcore.hpp>

int main() {
  const std::size_t n = 1000;
  std::vector<float> x(n, 1.0f), g(n), m(n, 0.0f), v(n, 0.0f);
  gd::ParamSlot<float> slot;
  slot.param = x.data();
  slot.grad = g.data();
  slot.state[0] = m.data();
  slot.state[1] = v.data();
  slot.size = static_cast<std::int64_t>(n);

  gd::AdamOptions opts;
  opts.lr = 0.05;
  for (int step = 0; step < 2000; ++step) {
    for (std::size_t i = 0; i < n; ++i) g[i] = float(i + 1) * x[i];
    gd::adam_step(opts, &slot, 1);
  }
  double worst = 0.0;
  for (float xi : x) worst = std::fmax(worst, std::fabs(double(xi)));
  std::printf("isa=%s steps=%lld max|x|=%.3g\n", gd::isa_active().c_str(),
              static_cast<long long>(slot.step), worst);
  return worst < 1e-2 ? 0 : 1;
}
