using System.Diagnostics.CodeAnalysis;
using Res2Net.Runtime.Binding;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// The tensors of a checkpoint by state-dict key, enumerated in the order the file lists them
/// (that order is the module order, which makes diffs and error listings readable).
/// </summary>
public sealed class StateDict : IReadOnlyDictionary<string, CheckpointTensor>
{
    /// <summary>Wrapper value for a checkpoint that held <c>{'state_dict': ...}</c>.</summary>
    public const string StateDictWrapper = "state_dict";

    /// <summary>Wrapper value for a checkpoint that held <c>{'model': ...}</c>.</summary>
    public const string ModelWrapper = "model";

    /// <summary>Wrapper value for a checkpoint whose top-level object was the state dict itself (and for safetensors).</summary>
    public const string NoWrapper = "none";

    private readonly List<CheckpointTensor> _ordered;
    private readonly Dictionary<string, CheckpointTensor> _byName;

    /// <summary>Builds a state dict from tensors; names must be unique.</summary>
    public StateDict(IEnumerable<CheckpointTensor> tensors, string sourcePath, string wrapper, CheckpointFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(sourcePath);
        ArgumentNullException.ThrowIfNull(wrapper);
        _ordered = new List<CheckpointTensor>();
        _byName = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var tensor in tensors)
        {
            if (!_byName.TryAdd(tensor.Name, tensor))
                throw new ArgumentException($"duplicate tensor name '{tensor.Name}'", nameof(tensors));
            _ordered.Add(tensor);
        }
        SourcePath = sourcePath;
        Wrapper = wrapper;
        Format = format;
        Layout = KeyLayout.Detect(_ordered.Select(t => t.Name).ToList());
    }

    /// <summary>The file format it was read from; null for a state dict built in memory.</summary>
    public CheckpointFormat? Format { get; }

    /// <summary>The key layout the names are in (mmpretrain, official, with or without <c>module.</c>).</summary>
    public KeyLayoutInfo Layout { get; }

    /// <summary>One line for messages: format, wrapper, layout and tensor count.</summary>
    public string Summary =>
        $"{(Format is { } f ? f.Describe() : "in memory")}, wrapper '{Wrapper}', layout {Layout.Description}, {Count} tensors";

    /// <summary>This state dict with every tensor's values held in memory.</summary>
    public StateDict Materialize() =>
        _ordered.All(t => !t.IsDeferred) ? this : new StateDict(_ordered.Select(t => t.Materialize()).ToList(), SourcePath, Wrapper, Format);

    /// <summary>The path (or display name) the checkpoint was read from.</summary>
    public string SourcePath { get; }

    /// <summary><see cref="StateDictWrapper"/>, <see cref="ModelWrapper"/> or <see cref="NoWrapper"/>.</summary>
    public string Wrapper { get; }

    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<CheckpointTensor> Tensors => _ordered;

    /// <inheritdoc />
    public CheckpointTensor this[string key] =>
        _byName.TryGetValue(key, out var tensor)
            ? tensor
            : throw new KeyNotFoundException($"{SourcePath}: no tensor '{key}' in the state dict");

    /// <inheritdoc />
    public IEnumerable<string> Keys => _ordered.Select(t => t.Name);

    /// <inheritdoc />
    public IEnumerable<CheckpointTensor> Values => _ordered;

    /// <inheritdoc />
    public int Count => _ordered.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => _byName.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out CheckpointTensor value) => _byName.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, CheckpointTensor>> GetEnumerator()
    {
        foreach (var tensor in _ordered)
            yield return new KeyValuePair<string, CheckpointTensor>(tensor.Name, tensor);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
