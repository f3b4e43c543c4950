using Res2Net.Runtime.Inference;
using Res2Net.Runtime.Networks;

namespace Res2Net.Serving;

/// <summary>Runs <paramref name="batch"/> preprocessed images and writes their logits: <see cref="CompiledNetwork.Forward(ReadOnlySpan{float}, int, Span{float}, FeatureCapture?)"/>.</summary>
internal delegate void BatchForward(ReadOnlySpan<float> input, int batch, Span<float> logits);

/// <summary>
/// A network with loaded weights, under the name the server answers to: the input it takes (its
/// <see cref="ImageClassifier.Preprocessing"/> for images), its class names and the forward that batches run.
/// </summary>
public sealed class ServedModel
{
    /// <param name="network">A network whose weights are loaded.</param>
    /// <param name="classNames">One name per class; default the spec's (see <see cref="ImageClassifier"/>); pass
    /// <c>Res2Net.Models.ClassNames.For(info)</c> for the ImageNet models.</param>
    /// <param name="name">The name in URLs; default the network's (<see cref="NetworkInfo.Name"/>).</param>
    /// <exception cref="ArgumentException">No weights are loaded, the class names do not fit, or the name cannot be a URL path segment.</exception>
    public ServedModel(CompiledNetwork network, IReadOnlyList<string>? classNames = null, string? name = null)
        : this(network, classNames, name, null)
    {
    }

    /// <summary>For tests: <paramref name="forward"/> runs the batches instead of the network's own forward.</summary>
    internal ServedModel(CompiledNetwork network, IReadOnlyList<string>? classNames, string? name, BatchForward? forward)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!network.IsLoaded) throw new ArgumentException($"{network.Info.Name}: no weights are loaded; call Load(checkpoint) first", nameof(network));
        Name = name ?? network.Info.Name;
        if (Name.Length == 0 || Name.Any(c => c is '/' or '?' or '#' or '%' || char.IsControl(c) || char.IsWhiteSpace(c)))
            throw new ArgumentException($"'{Name}' cannot be a model's name in a URL (no '/', '?', '#', '%', spaces or control characters)", nameof(name));
        Classifier = new ImageClassifier(network, classNames);
        Forward = forward ?? ((input, batch, logits) => network.Forward(input, batch, logits));
    }

    /// <summary>The name in <c>/v2/models/{name}</c> and <c>/predictions/{name}</c>.</summary>
    public string Name { get; }

    /// <summary>The network, its class names and its test pipeline.</summary>
    public ImageClassifier Classifier { get; }

    public NetworkInfo Info => Classifier.Info;

    internal BatchForward Forward { get; }
}
