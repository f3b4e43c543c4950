using Res2Net.Runtime.Imaging;

namespace Res2Net.Runtime.Inference;

/// <summary>
/// One image to classify: a file or stream to decode, decoded pixels, or a tensor that is already preprocessed.
/// Files are decoded only when <see cref="ImageClassifier.Run"/> reaches them (on several threads at once).
/// </summary>
public sealed class InferenceInput
{
    private delegate void Writer(PreprocessConfig config, Span<float> destination);

    private readonly Writer? _preprocess;
    private readonly ReadOnlyMemory<float> _tensor;

    private InferenceInput(string name, Writer? preprocess, ReadOnlyMemory<float> tensor)
    {
        Name = name;
        _preprocess = preprocess;
        _tensor = tensor;
    }

    /// <summary>Names the input in results and error messages (the path, or the name given).</summary>
    public string Name { get; }

    /// <summary>
    /// An image file (JPEG, PNG, BMP, WebP, PPM or PGM), decoded as OpenCV's <c>imread</c> does (see <see cref="ImageDecoder"/>);
    /// its full-size pixels are freed as soon as its network input is written.
    /// </summary>
    public static InferenceInput FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new InferenceInput(path, (config, destination) => Preprocessor.Run(path, config, destination), default);
    }

    /// <summary>An encoded image in memory (the bytes of a JPEG, PNG, BMP, WebP, PPM or PGM file).</summary>
    public static InferenceInput FromEncoded(byte[] encoded, string name)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(name);
        return new InferenceInput(name, (config, destination) => Preprocessor.Run(encoded, name, config, destination), default);
    }

    /// <summary>Decoded 8-bit RGB pixels; they still go through resize, crop and normalization.</summary>
    public static InferenceInput FromImage(RgbImage image, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(name);
        return new InferenceInput(name, (config, destination) => Preprocessor.Run(image, config, destination), default);
    }

    /// <summary>
    /// A network input that is already preprocessed: 3 × H × W float32 values, CHW, normalized. Not copied: keep it
    /// unchanged until the run is over.
    /// </summary>
    public static InferenceInput FromTensor(ReadOnlyMemory<float> tensor, string name = "tensor")
    {
        ArgumentNullException.ThrowIfNull(name);
        return new InferenceInput(name, null, tensor);
    }

    /// <summary>Writes the network input into <paramref name="destination"/> (exactly <see cref="PreprocessConfig.TensorLength"/> floats).</summary>
    /// <exception cref="ImageDecodeException">The image cannot be decoded.</exception>
    /// <exception cref="ArgumentException">A tensor input has the wrong number of values.</exception>
    public void WriteTo(PreprocessConfig config, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (_preprocess != null)
        {
            _preprocess(config, destination);
            return;
        }
        if (_tensor.Length != destination.Length)
        {
            throw new ArgumentException(
                $"{Name}: the tensor has {_tensor.Length} values; the network takes 3 x {config.CropHeight} x {config.CropWidth} = {destination.Length}");
        }
        _tensor.Span.CopyTo(destination);
    }

    public override string ToString() => Name;
}
