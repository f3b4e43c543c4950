namespace Res2Net.Tests.Reference;

/// <summary>
/// The activations of one image: channels × height × width, row-major (PyTorch's NCHW without the N), in double
/// (see <see cref="ReferenceRes2Net"/> for why). Every operation of the interpreter makes a new tensor; nothing is
/// a view and nothing is reused, so no layer can see another's half-written output.
/// </summary>
internal sealed class Tensor
{
    public Tensor(int channels, int height, int width)
    {
        Channels = channels;
        Height = height;
        Width = width;
        Data = new double[channels * height * width];
    }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>The values, channel after channel, row after row.</summary>
    public double[] Data { get; }

    public int[] Shape => new[] { Channels, Height, Width };

    public ref double this[int c, int y, int x] => ref Data[(c * Height + y) * Width + x];

    /// <summary>An image of float32 values, as the network and PyTorch hold them.</summary>
    public static Tensor FromFloats(ReadOnlySpan<float> values, int channels, int height, int width)
    {
        var tensor = new Tensor(channels, height, width);
        if (values.Length != tensor.Data.Length)
            throw new ArgumentException($"{values.Length} values for a {channels} × {height} × {width} tensor", nameof(values));
        for (int i = 0; i < values.Length; i++) tensor.Data[i] = values[i];
        return tensor;
    }

    /// <summary><c>torch.split(x, width, 1)[index]</c>: channels <c>index · width</c> to <c>(index + 1) · width − 1</c>.</summary>
    public Tensor Split(int width, int index)
    {
        var part = new Tensor(width, Height, Width);
        int plane = Height * Width;
        Array.Copy(Data, index * width * plane, part.Data, 0, width * plane);
        return part;
    }

    /// <summary><c>torch.cat(parts, 1)</c>: the parts' channels one after another.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts)
    {
        var whole = new Tensor(parts.Sum(p => p.Channels), parts[0].Height, parts[0].Width);
        int at = 0;
        foreach (var part in parts)
        {
            if (part.Height != whole.Height || part.Width != whole.Width)
                throw new ArgumentException($"cannot concatenate a {part.Height} × {part.Width} part to {whole.Height} × {whole.Width} ones");
            part.Data.CopyTo(whole.Data, at);
            at += part.Data.Length;
        }
        return whole;
    }

    /// <summary>Elementwise <c>a + b</c> (the hierarchical <c>sp + spx[i]</c>, the residual <c>out + identity</c>).</summary>
    public static Tensor operator +(Tensor a, Tensor b)
    {
        if (a.Channels != b.Channels || a.Height != b.Height || a.Width != b.Width)
            throw new ArgumentException($"cannot add [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}]");
        var sum = new Tensor(a.Channels, a.Height, a.Width);
        for (int i = 0; i < sum.Data.Length; i++) sum.Data[i] = a.Data[i] + b.Data[i];
        return sum;
    }
}
