namespace Res2Net.Runtime.Networks;

/// <summary>
/// Another engine that runs a <see cref="CompiledNetwork"/>'s forward (a GPU, through ILGPU, in <c>Res2Net.Gpu</c>). Once
/// attached (<see cref="CompiledNetwork.AttachBackend"/>), <see cref="CompiledNetwork.Forward(ReadOnlySpan{float}, int, Span{float}, FeatureCapture?)"/>
/// checks its arguments as always and hands the batch over, so every caller (the classifier, the evaluator, the CLI)
/// runs there without knowing it. Calls come under the network's forward lock: one at a time, never during a weight swap.
/// </summary>
public unsafe interface IForwardBackend
{
    /// <summary>What the backend is called in messages: <c>cuda (NVIDIA H200)</c>.</summary>
    string Description { get; }

    /// <summary>
    /// New weights were bound: <paramref name="packed"/> is the network's packed buffer (BatchNorm folded, panels of
    /// four output channels), valid only for the call; a backend copies what it needs.
    /// </summary>
    void WeightsLoaded(ReadOnlySpan<float> packed);

    /// <summary>Runs <paramref name="batch"/> images (checked by the caller) into <paramref name="logits"/>; fills <paramref name="features"/> when given.</summary>
    void Forward(float* input, int batch, float* logits, FeatureCapture? features);
}
