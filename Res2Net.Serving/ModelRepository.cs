namespace Res2Net.Serving;

/// <summary>The models a server serves, by name, each with its <see cref="DynamicBatcher"/>.</summary>
internal sealed class ModelRepository
{
    private readonly Dictionary<string, DynamicBatcher> _batchers;

    public ModelRepository(IEnumerable<DynamicBatcher> batchers)
    {
        _batchers = new Dictionary<string, DynamicBatcher>(StringComparer.Ordinal);
        foreach (var batcher in batchers)
        {
            if (!_batchers.TryAdd(batcher.Model.Name, batcher))
                throw new ArgumentException($"two models are served as '{batcher.Model.Name}'; serve each once");
        }
    }

    public IEnumerable<string> Names => _batchers.Keys;

    public IEnumerable<DynamicBatcher> Batchers => _batchers.Values;

    /// <summary>True while the server takes requests; false from the start of a shutdown (readiness probes then fail).</summary>
    public bool Ready { get; set; }

    public bool Contains(string name) => _batchers.ContainsKey(name);

    /// <exception cref="ServingError">404: no model of that name.</exception>
    public DynamicBatcher Get(string name) =>
        _batchers.TryGetValue(name, out var batcher) ? batcher : throw ServingError.UnknownModel(name, _batchers.Keys);
}
