using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Download;
using Res2Net.Runtime.Networks;

namespace Res2Net.Models;

/// <summary>mmpretrain's <c>get_model</c>: a network by name, optionally with its pretrained weights.</summary>
public static partial class Res2NetModels
{
    /// <summary>
    /// The named network, like mmpretrain's <c>get_model(name, pretrained=...)</c>. With <paramref name="pretrained"/>
    /// the checkpoint its spec names is loaded from the cache (<c>$RES2NET_HOME/checkpoints</c>), downloaded there first
    /// if missing (sha256 prefix checked, resumed on dropped connections; progress goes to
    /// <see cref="PretrainedOptions.Progress"/>).
    /// </summary>
    /// <exception cref="UnknownModelException">No network of that name is compiled in.</exception>
    /// <exception cref="CheckpointDownloadException">The checkpoint is not cached and could not be downloaded; the message names the URL and where to put the file by hand.</exception>
    /// <exception cref="CheckpointException">The cached file is not a readable checkpoint.</exception>
    public static CompiledNetwork Get(string name, bool pretrained = false, PretrainedOptions? options = null)
    {
        var network = Create(name);
        if (pretrained) PretrainedCheckpoints.Load(network, options);
        return network;
    }

    /// <summary>As <see cref="Get(string, bool, PretrainedOptions?)"/>, asynchronously.</summary>
    public static async Task<CompiledNetwork> GetAsync(string name, bool pretrained = false, PretrainedOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var network = Create(name);
        if (pretrained) await PretrainedCheckpoints.LoadAsync(network, options, cancellationToken).ConfigureAwait(false);
        return network;
    }

    /// <summary>
    /// The named network with the weights of <paramref name="checkpoint"/> (a file in any supported format and key
    /// layout), like <c>get_model(name, pretrained='path.pth')</c>.
    /// </summary>
    public static CompiledNetwork Get(string name, string checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var network = Create(name);
        network.LoadCheckpoint(checkpoint);
        return network;
    }
}
