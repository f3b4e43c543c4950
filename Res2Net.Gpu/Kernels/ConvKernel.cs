using ILGPU;

namespace Res2Net.Gpu.Kernels;

/// <summary>
/// A fused conv as an implicit GEMM, <c>C[co, j] = Σ_k W[co, k] · B[k, j]</c>, where <c>k</c> runs over input channel ×
/// kernel row × kernel column and <c>j</c> over the pixels of every image of the batch (so a narrow 3×3 on a 14-channel
/// split still has thousands of columns). The receptive-field matrix B is never built: each tile of it is gathered
/// from the activations straight into shared memory (the hierarchical <c>sp + spx[i]</c> summed and a concat's tail read in
/// place as it is gathered, a folded shortcut's input at its stride); the weights come in the packed panel layout the CPU binder writes (BatchNorm folded, four
/// output channels side by side per input), so a tile of them is a few contiguous runs. Each thread keeps a 4 × 4 block
/// of outputs in registers; bias, residual and ReLU are applied there before the one store.
/// </summary>
public static class ConvKernel
{
    /// <summary>Shared floats per tile of A (<c>DepthStep · 4 · ThreadsY</c> at most) and of B (<c>DepthStep · 4 · ThreadsX</c>).</summary>
    public const int SharedA = 512, SharedB = 2048;

    /// <summary>Groups for a launch: column tiles × channel tiles.</summary>
    public static (int X, int Y) Groups<TShape, TTile>(int batch)
        where TShape : struct, IConvShape where TTile : struct, ITile
    {
        TShape s = default;
        TTile t = default;
        long columns = (long)batch * s.OutHeight * s.OutWidth;
        int bn = 4 * t.ThreadsX, bm = 4 * t.ThreadsY;
        return ((int)((columns + bn - 1) / bn), (s.OutChannels + bm - 1) / bm);
    }

    public static void Run<TShape, TTile>(ArrayView<float> source, ArrayView<float> arena, ArrayView<float> weights, ConvOperands o)
        where TShape : struct, IConvShape where TTile : struct, ITile
    {
        TShape s = default;
        TTile t = default;
        int tx = t.ThreadsX, ty = t.ThreadsY, bk = t.DepthStep;
        int threads = tx * ty, bm = 4 * ty, bn = 4 * tx;
        int k2 = s.Kernel * s.Kernel;
        int depth = s.InChannels * k2;
        int plane = s.Height * s.Width;
        int pixels = s.OutHeight * s.OutWidth;
        int columns = o.Batch * pixels;

        var tileA = SharedMemory.Allocate<float>(SharedA);
        var tileB = SharedMemory.Allocate<float>(SharedB);
        int tid = Group.IdxX;
        int lx = tid % tx, ly = tid / tx;
        int col0 = Grid.IdxX * bn, row0 = Grid.IdxY * bm;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;

        for (int k0 = 0; k0 < depth; k0 += bk)
        {
            // A: panel p holds input k's four channel weights side by side, so element e of the tile, taken panel by panel,
            // reads contiguous floats; rows past the packed panels and depth past k are zero.
            for (int e = tid; e < bm * bk; e += threads)
            {
                int panel = e / (4 * bk), within = e - panel * 4 * bk;
                int kk = within >> 2, r = within & 3;
                int row = row0 + 4 * panel + r, k = k0 + kk;
                float w = 0;
                if (row < s.OutChannels && k < depth) w = weights[o.Weights + (row >> 2) * 4 * depth + 4 * k + r];
                tileA[kk * bm + 4 * panel + r] = w;
            }
            // B: consecutive threads take consecutive output pixels, so the activations are read along rows.
            for (int e = tid; e < bn * bk; e += threads)
            {
                int kk = e / bn, c = e - kk * bn;
                int k = k0 + kk, col = col0 + c;
                float v = 0;
                if (k < depth && col < columns)
                {
                    int n = col / pixels, p = col - n * pixels;
                    int ci = k / k2, rk = k - ci * k2;
                    int ky = rk / s.Kernel, kx = rk - ky * s.Kernel;
                    int oy = p / s.OutWidth, ox = p - oy * s.OutWidth;
                    int iy = oy * s.Stride - s.Padding + ky, ix = ox * s.Stride - s.Padding + kx;
                    if (iy >= 0 && iy < s.Height && ix >= 0 && ix < s.Width)
                    {
                        int at = iy * s.Width + ix;
                        if (s.TailChannel > 0 && ci >= s.TailChannel)
                        {
                            // A tail is read by a 1×1 unpadded conv (iy, ix are the output pixel), at the shortcut's stride.
                            int tailAt = iy * s.TailStride * s.TailWidth + ix * s.TailStride;
                            v = arena[n * o.ImageFloats + o.Tail + (ci - s.TailChannel) * s.TailHeight * s.TailWidth + tailAt];
                        }
                        else
                        {
                            v = source[n * o.SourceImage + o.Source + ci * plane + at];
                            if (s.Summed) v = arena[n * o.ImageFloats + o.Second + ci * plane + at] + v;
                        }
                    }
                }
                tileB[kk * bn + c] = v;
            }
            Group.Barrier();

            for (int kk = 0; kk < bk; kk++)
            {
                int a = kk * bm + ly, b = kk * bn + lx;
                float a0 = tileA[a], a1 = tileA[a + ty], a2 = tileA[a + 2 * ty], a3 = tileA[a + 3 * ty];
                float b0 = tileB[b], b1 = tileB[b + tx], b2 = tileB[b + 2 * tx], b3 = tileB[b + 3 * tx];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        Store<TShape>(arena, weights, o, row0 + ly, col0 + lx, tx, columns, pixels, c00, c01, c02, c03);
        Store<TShape>(arena, weights, o, row0 + ly + ty, col0 + lx, tx, columns, pixels, c10, c11, c12, c13);
        Store<TShape>(arena, weights, o, row0 + ly + 2 * ty, col0 + lx, tx, columns, pixels, c20, c21, c22, c23);
        Store<TShape>(arena, weights, o, row0 + ly + 3 * ty, col0 + lx, tx, columns, pixels, c30, c31, c32, c33);
    }

    /// <summary>The epilogue of one output channel's four columns: bias, then the residual, then ReLU (PyTorch's order).</summary>
    private static void Store<TShape>(ArrayView<float> arena, ArrayView<float> weights, ConvOperands o, int row, int col, int step,
        int columns, int pixels, float v0, float v1, float v2, float v3)
        where TShape : struct, IConvShape
    {
        TShape s = default;
        if (row >= s.OutChannels) return;
        float bias = weights[o.Bias + row];
        Put<TShape>(arena, o, row, col, columns, pixels, v0 + bias);
        Put<TShape>(arena, o, row, col + step, columns, pixels, v1 + bias);
        Put<TShape>(arena, o, row, col + 2 * step, columns, pixels, v2 + bias);
        Put<TShape>(arena, o, row, col + 3 * step, columns, pixels, v3 + bias);
    }

    private static void Put<TShape>(ArrayView<float> arena, ConvOperands o, int row, int col, int columns, int pixels, float v)
        where TShape : struct, IConvShape
    {
        TShape s = default;
        if (col >= columns) return;
        int n = col / pixels, p = col - n * pixels;
        int image = n * o.ImageFloats;
        if (s.Residual) v += arena[image + o.Residual + row * pixels + p];
        if (s.Relu) v = v < 0 ? 0 : v; // NaN stays NaN, as torch.relu keeps it
        arena[image + o.Destination + row * pixels + p] = v;
    }
}
