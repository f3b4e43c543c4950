using Res2Net.Models;
using Res2Net.Runtime.Export;
using Res2Net.Runtime.Networks;
using Xunit;

namespace Res2Net.Tests.Export;

public class NetworkCostTests
{
    /// <summary>
    /// Conv + fc multiply-accumulates, recounted independently from the layer table: a conv layer's parameters are its
    /// weights plus BatchNorm's 2·C (twice for conv3 with the shortcut folded in), and each weight is used once per output
    /// pixel; the Linear uses each weight once.
    /// res2net50-w14-s8 gives 4.18 G, the figure issue 5 quotes.
    /// </summary>
    [Theory]
    [InlineData("res2net50-w14-s8_3rdparty_8xb32_in1k", 4_178_898_944L)]
    [InlineData("res2net50-w26-s8_3rdparty_8xb32_in1k", 8_335_880_192L)]
    [InlineData("res2net101-w26-s4_3rdparty_8xb32_in1k", 8_066_974_464L)]
    public void ConvAndLinearMacsMatchTheLayerTable(string name, long expected)
    {
        var info = Res2NetModels.All.Single(m => m.Name == name);
        long fromLayers = 0;
        foreach (var layer in info.Layers)
        {
            if (layer.Description.Contains("Conv2d(", StringComparison.Ordinal))
            {
                // conv3 with the stage block's shortcut conv folded in carries two convs' weights and two BatchNorms.
                int c = layer.OutputShape[0], norms = layer.Fusions.HasFlag(LayerFusions.ShortcutConv) ? 2 : 1;
                fromLayers += (layer.Params - 2L * c * norms) * layer.OutputShape[1] * layer.OutputShape[2];
            }
            else if (layer.Description.StartsWith("Linear(", StringComparison.Ordinal))
            {
                fromLayers += layer.Params - layer.OutputShape[0];
            }
        }

        Assert.Equal(fromLayers, NetworkCost.ConvAndLinearMacs(info));
        Assert.Equal(expected, NetworkCost.ConvAndLinearMacs(info));
    }
}
