using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// The convolution GEMM: <c>C[m, n] = A[m, k] · B[k, n] + bias[m] (+ residual[m, n]), then ReLU</c>.
/// A is a conv's packed weights (panels of <see cref="RowBlock"/> output channels), B is the input
/// (a 1×1 conv's activation as is, anything else gathered by <see cref="Gather.Im2Col"/>), and rows of
/// B and C are the <c>n = H·W</c> pixels of one channel, which is the dimension the SIMD lanes run over.
/// Bias (folded BatchNorm), residual add and ReLU happen in registers before the single store.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Output channels computed together; the packed weight layout depends on it.</summary>
    public const int RowBlock = 4;

    private const int Lanes = 8;

    /// <summary>Pixels computed together: three 8-lane vectors, so 4 × 3 accumulators stay in registers.</summary>
    private const int ColumnBlock = 3 * Lanes;

    public static void Conv(float* a, float* b, float* c, int m, int n, int k, float* bias, float* residual, bool relu)
    {
        int panels = (m + RowBlock - 1) / RowBlock;
        int j = 0;
        // Pixels outer, channels inner: the k × 24 block of B stays in cache while every weight panel passes over it.
        for (; j + ColumnBlock <= n; j += ColumnBlock)
        {
            for (int p = 0; p < panels; p++) Block4x24(a + (long)p * RowBlock * k, b + j, c, m, n, k, p * RowBlock, j, bias, residual, relu);
        }
        for (; j + Lanes <= n; j += Lanes)
        {
            for (int p = 0; p < panels; p++) Block4x8(a + (long)p * RowBlock * k, b + j, c, m, n, k, p * RowBlock, j, bias, residual, relu);
        }
        for (; j < n; j++)
        {
            for (int p = 0; p < panels; p++) Block4x1(a + (long)p * RowBlock * k, b + j, c, m, n, k, p * RowBlock, j, bias, residual, relu);
        }
    }

    private static void Block4x24(float* a, float* b, float* c, int m, int n, int k, int row, int col, float* bias, float* residual, bool relu)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default;
        for (int i = 0; i < k; i++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + Lanes);
            var b2 = Vector256.Load(b + 2 * Lanes);
            b += n;
            var a0 = Vector256.Create(a[0]);
            c00 = MulAdd(a0, b0, c00); c01 = MulAdd(a0, b1, c01); c02 = MulAdd(a0, b2, c02);
            var a1 = Vector256.Create(a[1]);
            c10 = MulAdd(a1, b0, c10); c11 = MulAdd(a1, b1, c11); c12 = MulAdd(a1, b2, c12);
            var a2 = Vector256.Create(a[2]);
            c20 = MulAdd(a2, b0, c20); c21 = MulAdd(a2, b1, c21); c22 = MulAdd(a2, b2, c22);
            var a3 = Vector256.Create(a[3]);
            c30 = MulAdd(a3, b0, c30); c31 = MulAdd(a3, b1, c31); c32 = MulAdd(a3, b2, c32);
            a += RowBlock;
        }
        int rows = Math.Min(RowBlock, m - row);
        Store3(c00, c01, c02, c, n, row, col, bias, residual, relu);
        if (rows > 1) Store3(c10, c11, c12, c, n, row + 1, col, bias, residual, relu);
        if (rows > 2) Store3(c20, c21, c22, c, n, row + 2, col, bias, residual, relu);
        if (rows > 3) Store3(c30, c31, c32, c, n, row + 3, col, bias, residual, relu);
    }

    private static void Block4x8(float* a, float* b, float* c, int m, int n, int k, int row, int col, float* bias, float* residual, bool relu)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int i = 0; i < k; i++)
        {
            var b0 = Vector256.Load(b);
            b += n;
            c0 = MulAdd(Vector256.Create(a[0]), b0, c0);
            c1 = MulAdd(Vector256.Create(a[1]), b0, c1);
            c2 = MulAdd(Vector256.Create(a[2]), b0, c2);
            c3 = MulAdd(Vector256.Create(a[3]), b0, c3);
            a += RowBlock;
        }
        int rows = Math.Min(RowBlock, m - row);
        Store(c0, c, n, row, col, bias, residual, relu);
        if (rows > 1) Store(c1, c, n, row + 1, col, bias, residual, relu);
        if (rows > 2) Store(c2, c, n, row + 2, col, bias, residual, relu);
        if (rows > 3) Store(c3, c, n, row + 3, col, bias, residual, relu);
    }

    private static void Block4x1(float* a, float* b, float* c, int m, int n, int k, int row, int col, float* bias, float* residual, bool relu)
    {
        // The last n mod 8 pixels: one weight-panel vector (4 channels) per input row.
        Vector128<float> acc = default;
        for (int i = 0; i < k; i++)
        {
            acc += Vector128.Load(a) * Vector128.Create(*b);
            a += RowBlock;
            b += n;
        }
        int rows = Math.Min(RowBlock, m - row);
        for (int r = 0; r < rows; r++)
        {
            long at = (long)(row + r) * n + col;
            float v = acc.GetElement(r) + bias[row + r];
            if (residual != null) v += residual[at];
            c[at] = relu ? MathF.Max(v, 0f) : v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, float* c, int n, int row, int col,
        float* bias, float* residual, bool relu)
    {
        Store(v0, c, n, row, col, bias, residual, relu);
        Store(v1, c, n, row, col + Lanes, bias, residual, relu);
        Store(v2, c, n, row, col + 2 * Lanes, bias, residual, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> v, float* c, int n, int row, int col, float* bias, float* residual, bool relu)
    {
        long at = (long)row * n + col;
        v += Vector256.Create(bias[row]);
        if (residual != null) v += Vector256.Load(residual + at);
        if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
        v.Store(c + at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;
}
