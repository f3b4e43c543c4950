using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Inference;

/// <summary>
/// mmpretrain's <c>inference_model</c> and <c>extract_feat</c> for a compiled network with loaded weights: decodes
/// images as mmpretrain's <c>LoadImageFromFile</c> does, preprocesses them with the network's test pipeline
/// (<see cref="NetworkInfo.Preprocess"/>, bit-exact to mmpretrain's), runs them through the network in batches and
/// returns predictions and, on request, the stem and stage outputs.
/// </summary>
/// <example>
/// <code>
/// var network = Res2NetModels.Create("res2net50-w14-s8_3rdparty_8xb32_in1k");
/// network.Load("res2net50-w14-s8_3rdparty_8xb32_in1k_20210927-bc967bf1.pth");
/// var classifier = new ImageClassifier(network, ClassNames.For(network.Info));
/// Prediction p = classifier.Predict("demo.JPEG");
/// Console.WriteLine($"{p.PredClass} {p.PredScore:0.000}");
/// </code>
/// </example>
/// <remarks>
/// A network runs one forward at a time (<see cref="CompiledNetwork.Forward(ReadOnlySpan{float}, int, Span{float}, FeatureCapture?)"/>
/// takes a lock), so one classifier may be shared between threads; decoding runs in parallel.
/// </remarks>
public sealed partial class ImageClassifier
{
    private readonly int _batchSize = DefaultBatchSize;
    private readonly int _decodeThreads = Environment.ProcessorCount;

    /// <summary>Images per forward call unless <see cref="BatchSize"/> says otherwise.</summary>
    public const int DefaultBatchSize = 16;

    /// <param name="network">A network whose weights are loaded (<see cref="CompiledNetwork.Load(string)"/>).</param>
    /// <param name="classNames">One name per class. Default: the spec's <c>class_names</c>, else <c>class_0</c>, <c>class_1</c>, ...
    /// (ImageNet-1k's names ship in <c>Res2Net.Models.ClassNames.For(info)</c>, which is what to pass for the seed models).</param>
    /// <param name="preprocess">The test pipeline; default the network's own (<see cref="NetworkInfo.Preprocess"/>).
    /// Its crop must be the network's input size.</param>
    /// <exception cref="ArgumentException">The class names or the pipeline do not fit the network.</exception>
    public ImageClassifier(CompiledNetwork network, IReadOnlyList<string>? classNames = null, PreprocessConfig? preprocess = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        var info = network.Info;
        ClassNames = classNames ?? info.ClassNames ?? Enumerable.Range(0, info.NumClasses).Select(i => $"class_{i}").ToArray();
        if (ClassNames.Count != info.NumClasses)
        {
            throw new ArgumentException($"{ClassNames.Count} class names given for {info.Name}, which has {info.NumClasses} classes", nameof(classNames));
        }
        Preprocessing = preprocess ?? info.Preprocess;
        Preprocessing.Validate();
        if (Preprocessing.CropHeight != info.InputHeight || Preprocessing.CropWidth != info.InputWidth)
        {
            throw new ArgumentException(
                $"the pipeline crops {Preprocessing.CropWidth}x{Preprocessing.CropHeight} but {info.Name} takes {info.InputWidth}x{info.InputHeight} (width x height)",
                nameof(preprocess));
        }
    }

    /// <summary>The network the classifier runs.</summary>
    public CompiledNetwork Network { get; }

    /// <summary>The network's description.</summary>
    public NetworkInfo Info => Network.Info;

    /// <summary>Names of the labels, in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The test pipeline images go through: resize the short edge, center crop, normalize.</summary>
    public PreprocessConfig Preprocessing { get; }

    /// <summary>At most this many images go through one forward call. Default 16.</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "at least 1");
    }

    /// <summary>
    /// Images decoded at the same time. Default: the processor count. Full-size pixels decoded at once are bounded
    /// further by <see cref="ImageLimits.MaxPixels"/> (the decode budget), so large images wait for each other.
    /// </summary>
    public int DecodeThreads
    {
        get => _decodeThreads;
        init => _decodeThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(DecodeThreads), value, "at least 1");
    }

    /// <summary>The network input for <paramref name="image"/>: 3 × H × W floats, normalized.</summary>
    public float[] Preprocess(RgbImage image) => Preprocessor.Run(image, Preprocessing);

    /// <summary>Decodes and preprocesses the image at <paramref name="path"/>.</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read or decoded.</exception>
    public float[] Preprocess(string path) => Preprocessor.Run(path, Preprocessing);

    /// <summary>Classifies the image file at <paramref name="path"/>.</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read or decoded; the message names it.</exception>
    public Prediction Predict(string path, int topK = 5) => Run([InferenceInput.FromFile(path)], topK).Predictions[0];

    /// <summary>Classifies the encoded image (JPEG, PNG, BMP, WebP, PPM, PGM) read from <paramref name="stream"/>.</summary>
    public Prediction Predict(Stream stream, string displayName = "stream", int topK = 5) =>
        Run([InferenceInput.FromEncoded(ImageDecoder.ReadAll(stream, displayName), displayName)], topK).Predictions[0];

    /// <summary>Classifies decoded pixels (they are resized, cropped and normalized first).</summary>
    public Prediction Predict(RgbImage image, int topK = 5) => Run([InferenceInput.FromImage(image)], topK).Predictions[0];

    /// <summary>Classifies many image files, <see cref="BatchSize"/> per forward, decoding in parallel.</summary>
    /// <exception cref="ImageDecodeException">An image cannot be decoded (the first one in input order is reported).</exception>
    public IReadOnlyList<Prediction> Predict(IEnumerable<string> paths, int topK = 5) =>
        Run(paths.Select(InferenceInput.FromFile).ToArray(), topK).Predictions;

    /// <summary>Classifies many decoded images, <see cref="BatchSize"/> per forward.</summary>
    public IReadOnlyList<Prediction> Predict(IEnumerable<RgbImage> images, int topK = 5) =>
        Run(images.Select((image, i) => InferenceInput.FromImage(image, $"image[{i}]")).ToArray(), topK).Predictions;

    /// <summary>
    /// Classifies <paramref name="count"/> preprocessed inputs held back to back in <paramref name="inputs"/>
    /// (<c>[count, 3, H, W]</c>, normalized), as the CLI's <c>.npy</c> inputs are.
    /// </summary>
    public IReadOnlyList<Prediction> PredictTensors(ReadOnlyMemory<float> inputs, int count, int topK = 5) =>
        Run(SplitTensors(inputs, count), topK).Predictions;

    /// <summary>
    /// mmpretrain's <c>extract_feat</c> on one image file: the outputs named by <paramref name="outIndices"/>
    /// (0 stem, 1-4 layer1-layer4; default 1-4), each of shape [1, C, H, W].
    /// </summary>
    public IReadOnlyList<FeatureMap> ExtractFeatures(string path, params int[] outIndices) =>
        Run([InferenceInput.FromFile(path)], 1, Indices(outIndices)).Features;

    /// <summary><c>extract_feat</c> on decoded pixels; see <see cref="ExtractFeatures(string, int[])"/>.</summary>
    public IReadOnlyList<FeatureMap> ExtractFeatures(RgbImage image, params int[] outIndices) =>
        Run([InferenceInput.FromImage(image)], 1, Indices(outIndices)).Features;

    /// <summary><c>extract_feat</c> on many image files: each output is [N, C, H, W], in input order.</summary>
    public IReadOnlyList<FeatureMap> ExtractFeatures(IEnumerable<string> paths, params int[] outIndices) =>
        Run(paths.Select(InferenceInput.FromFile).ToArray(), 1, Indices(outIndices)).Features;

    /// <summary>
    /// Runs every input: decodes and preprocesses (in parallel, <see cref="BatchSize"/> at a time), forwards each batch,
    /// and returns the logits, the predictions with their top <paramref name="topK"/> and the requested feature maps.
    /// All inputs' features are held in memory; for many images call this on slices of the list.
    /// </summary>
    /// <param name="inputs">The images, in the order results are returned.</param>
    /// <param name="topK">Classes kept per prediction's <see cref="Prediction.TopK"/>.</param>
    /// <param name="featureIndices">Feature maps to return (0 stem, 1-4 layer1-layer4), like mmpretrain's <c>out_indices</c>; null or empty for none.</param>
    /// <exception cref="ImageDecodeException">An input cannot be decoded (the first such in input order); nothing is returned.</exception>
    /// <exception cref="ArgumentException">A tensor input has the wrong size.</exception>
    public ClassifierOutput Run(IReadOnlyList<InferenceInput> inputs, int topK = 5, IReadOnlyList<int>? featureIndices = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("no inputs", nameof(inputs));
        if (topK < 1) throw new ArgumentOutOfRangeException(nameof(topK), topK, "top-k must be at least 1");
        var info = Info;
        int[] indices = featureIndices is { Count: > 0 } ? featureIndices.ToArray() : [];
        foreach (int i in indices)
        {
            if (i < 0 || i > 4) throw new ArgumentOutOfRangeException(nameof(featureIndices), i, "feature indices are 0 (stem) to 4 (layer4)");
        }
        if (indices.Distinct().Count() != indices.Length)
            throw new ArgumentException($"feature indices repeat: {string.Join(", ", indices)}", nameof(featureIndices));

        int n = inputs.Count, elements = info.InputElements, classes = info.NumClasses;
        var logits = new float[(long)n * classes];
        var features = indices.Select(i => info.Features[i])
            .Select(f => new FeatureMap(f.Index, f.Name, new float[(long)n * f.ElementCount], [n, f.Channels, f.Height, f.Width]))
            .ToArray();
        var capture = indices.Length > 0 ? new FeatureCapture(indices) : null;
        var batch = new float[(long)Math.Min(BatchSize, n) * elements];

        for (int start = 0; start < n; start += BatchSize)
        {
            int count = Math.Min(BatchSize, n - start);
            Fill(inputs, start, count, batch);
            Network.Forward(batch.AsSpan(0, count * elements), count, logits.AsSpan(start * classes, count * classes), capture);
            if (capture == null) continue;
            foreach (var map in features)
            {
                var (data, _) = capture[map.Index];
                data.AsSpan(0, count * map.ElementsPerImage).CopyTo(map.Data.AsSpan(start * map.ElementsPerImage));
            }
        }

        var predictions = new Prediction[n];
        for (int i = 0; i < n; i++) predictions[i] = Prediction.FromLogits(logits.AsSpan(i * classes, classes), ClassNames, topK);
        return new ClassifierOutput(inputs.Select(x => x.Name).ToArray(), classes, logits, predictions, features);
    }

    /// <summary>Preprocesses inputs [start, start + count) into <paramref name="batch"/>; the first failure in input order wins.</summary>
    private void Fill(IReadOnlyList<InferenceInput> inputs, int start, int count, float[] batch)
    {
        int elements = Info.InputElements;
        var errors = new Exception?[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = DecodeThreads }, i =>
        {
            try
            {
                inputs[start + i].WriteTo(Preprocessing, batch.AsSpan(i * elements, elements));
            }
            catch (Exception e)
            {
                errors[i] = e;
            }
        });
        if (errors.FirstOrDefault(e => e != null) is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    private InferenceInput[] SplitTensors(ReadOnlyMemory<float> inputs, int count)
    {
        int elements = Info.InputElements;
        if (count < 1 || inputs.Length != (long)count * elements)
        {
            throw new ArgumentException(
                $"{inputs.Length} values are not {count} input(s) of 3 x {Info.InputHeight} x {Info.InputWidth} = {elements} values each", nameof(inputs));
        }
        return Enumerable.Range(0, count).Select(i => InferenceInput.FromTensor(inputs.Slice(i * elements, elements), $"tensor[{i}]")).ToArray();
    }

    private static int[] Indices(int[] outIndices) => outIndices is { Length: > 0 } ? outIndices : [1, 2, 3, 4];
}
